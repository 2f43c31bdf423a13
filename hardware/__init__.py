"""Device transports, drivers, emulators, FlowRig and safety."""
