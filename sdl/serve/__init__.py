"""`sdl serve`: a live, read-only web dashboard of one run or a folder of runs.

`runs` reads run directories (read-only, incrementally), `page` is the HTML/JS,
`app` the Starlette routes. Needs the `serve` extra (starlette, uvicorn, plotly).
"""
