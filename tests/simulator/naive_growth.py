"""Slow, obvious numpy reference of `simulator.growth._grow_kernel` (for tests only).

Same scheme, written with whole-array numpy operations and Python control flow:
semi-implicit monomer, explicit cohort volumes, nucleation at 1.1 r*, cohort merging.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.growth import BIRTH_FACTOR


def naive_trajectory(p, t_snap, r_min, lnr_lo, dlnr, nbins, max_cohorts):
    ftp = 4.0 / 3.0 * math.pi
    v_min = ftp * r_min**3
    r = np.zeros(0)
    vol = np.zeros(0)
    nd = np.zeros(0)
    P, C, t, nuc_total = p.p0, 0.0, 0.0, 0.0
    dt_nat = min(1e-4, 0.01 / p.k_conv)
    hist = np.zeros((t_snap.size, nbins))
    means = np.zeros(t_snap.size)
    mass = np.zeros(t_snap.size)
    s = 0
    while s < t_snap.size:
        while s < t_snap.size and t >= t_snap[s] * (1 - 1e-12):
            x = (np.log(r) - lnr_lo) / dlnr - 0.5
            i = np.floor(x).astype(int)
            f = x - i
            lo = i < 0
            hi = i >= nbins - 1
            mid = ~(lo | hi)
            np.add.at(hist[s], np.zeros(lo.sum(), int), nd[lo])
            np.add.at(hist[s], np.full(hi.sum(), nbins - 1), nd[hi])
            np.add.at(hist[s], i[mid], nd[mid] * (1 - f[mid]))
            np.add.at(hist[s], i[mid] + 1, nd[mid] * f[mid])
            means[s] = (nd @ r) / nd.sum() if nd.size else 0.0
            mass[s] = P + C + float(nd @ vol) / p.v_m
            s += 1
        if s >= t_snap.size:
            break
        ceq = p.c_inf * np.exp(p.l_c / r)
        g = nd * 4 * np.pi * r * r * p.diffusion / (r + p.delta)
        alpha, beta = g.sum(), g @ ceq
        dt = dt_nat * 1.5
        if P > 1e-9 * p.p0:
            dt = min(dt, 0.02 / p.k_conv)
        rate = p.diffusion * p.v_m * (C - ceq) / (r + p.delta)
        grow = rate > 0
        if grow.any():
            dt = min(dt, float(np.min(0.03 * r[grow] / rate[grow])))
        shrink = (rate < 0) & (r > 2 * r_min)
        if shrink.any():
            dt = min(dt, float(np.min(0.1 * r[shrink] / -rate[shrink])))
        jn = vn = 0.0
        if C / p.c_inf > 1:
            lns = math.log(C / p.c_inf)
            jn = p.j0 * math.exp(-p.barrier / lns**2)
            rn = max(BIRTH_FACTOR * p.l_c / lns, r_min * 1.05)
            vn = ftp * rn**3
            if jn > 0:
                dt = min(dt, 0.05 * C / (jn * vn / p.v_m))
        dt_nat = max(dt, 1e-12)
        dt = min(dt_nat, t_snap[s] - t)
        prod = P * (1 - math.exp(-p.k_conv * dt))
        dn = jn * dt
        nuc_mol = dn * vn / p.v_m
        if nuc_mol < 1e-10 * p.p0:
            dn = nuc_mol = 0.0
        c_imp = max((C + prod - nuc_mol + dt * beta) / (1 + dt * alpha), 0.0)
        dv = dt * 4 * np.pi * r * r * p.diffusion * p.v_m * (c_imp - ceq) / (r + p.delta)
        vnew = vol + dv
        gone = vnew < v_min
        consumed = float(nd[~gone] @ dv[~gone]) / p.v_m - float(nd[gone] @ vol[gone]) / p.v_m
        keep = ~gone
        vol, nd = vnew[keep], nd[keep]
        r = (vol / ftp) ** (1 / 3)
        P -= prod
        C = C + prod - nuc_mol - consumed
        t += dt
        if dn > 0:
            rn = (vn / ftp) ** (1 / 3)
            if r.size and abs(math.log(r[-1] / rn)) < 0.003:
                vol[-1] = (nd[-1] * vol[-1] + dn * vn) / (nd[-1] + dn)
                nd[-1] += dn
                r[-1] = (vol[-1] / ftp) ** (1 / 3)
            else:
                if r.size == max_cohorts:
                    d = np.abs(np.log(r[:-1] / r[1:]))
                    b = int(np.argmin(d))
                    n2 = nd[b] + nd[b + 1]
                    vol[b] = (nd[b] * vol[b] + nd[b + 1] * vol[b + 1]) / n2
                    nd[b] = n2
                    vol, nd = np.delete(vol, b + 1), np.delete(nd, b + 1)
                    r = (vol / ftp) ** (1 / 3)
                r, vol, nd = np.append(r, rn), np.append(vol, vn), np.append(nd, dn)
            nuc_total += dn
    return hist, means, mass, nuc_total
