"""Compile bytecode for the dependency modules the service actually imports (image build step).

Used by the Dockerfile's `slim` stage, before the project itself is copied in, so the
dependency layer stays cached across code changes. It runs a small workload that touches
what regression-analyzer uses (pandas/numpy I/O, scipy's linear algebra, distributions and
root finding, matplotlib Agg charts, FastAPI + uvicorn's protocol modules, the Anthropic and
OpenAI SDK clients, openpyxl/xlrd, charset-normalizer, rich, click), then writes an
unchecked-hash .pyc for every imported module under the given prefix (py_compile, as
compileall does).

Why not `compileall` over the whole venv: it adds ~94 MB of .pyc (scipy, pandas,
the two SDKs' type modules...), which pushes the image past 500 MB; the
modules imported here are what a read-only root filesystem has to load on every start.
"""

import importlib.util
import io
import os
import py_compile
import sys
import tempfile

PREFIX = sys.argv[1] if len(sys.argv) > 1 else sys.prefix


def workload() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp())
    import asyncio

    import charset_normalizer
    import click  # noqa: F401
    import matplotlib
    import numpy as np
    import openpyxl  # noqa: F401
    import pandas as pd
    import rich.console
    import rich.table
    import scipy.integrate
    import scipy.linalg
    import scipy.optimize
    import scipy.special
    import scipy.stats as st
    import xlrd  # noqa: F401

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    y = x @ [1.0, 2.0, 3.0] + rng.normal(size=500)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(y=y, g=["u", "v"] * 250)
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    raw = buf.getvalue().encode()
    charset_normalizer.from_bytes(raw).best()
    frame = pd.read_csv(io.BytesIO(raw))
    frame.describe(include="all")
    pd.get_dummies(frame, columns=["g"], drop_first=True)
    exog = np.column_stack([np.ones(len(frame)), frame[["a", "b", "c"]].to_numpy()])
    r = np.linalg.qr(exog, mode="r")
    q = scipy.linalg.solve_triangular(r, exog.T, trans="T").T
    resid = y - q @ (q.T @ y)
    st.t.sf(2.0, 10), st.f.sf(2.0, 2, 10), st.chi2.sf(2.0, 2), st.norm.ppf(0.975)
    scipy.optimize.brentq(lambda v: v - 0.5, 0.0, 1.0)
    scipy.integrate.quad(lambda v: np.exp(-v), 0.0, 1.0)
    st.probplot(resid)
    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.scatter(frame["a"], frame["y"], s=4)
    ax.hist(resid, bins=20)
    ax.plot([0, 1], [0, 1])
    ax.set_title("warm-up")
    fig.savefig(io.BytesIO(), format="png")
    rich.console.Console(file=io.StringIO()).print(rich.table.Table("x"))

    import anthropic
    import fastapi
    import fastapi.middleware.cors
    import fastapi.responses
    import fastapi.security
    import fastapi.staticfiles
    import openai
    import prometheus_client.core
    import prometheus_client.exposition
    import pydantic_settings  # noqa: F401
    import python_multipart.multipart  # noqa: F401
    import uvicorn

    # What /metrics loads: the registry, the process collector, the text exposition.
    registry = prometheus_client.CollectorRegistry()
    prometheus_client.ProcessCollector(registry=registry)
    prometheus_client.Counter("warm_up", "warm-up", ["label"], registry=registry).labels("x").inc()
    prometheus_client.exposition.generate_latest(registry)
    anthropic.Anthropic(api_key="warm-up")
    openai.OpenAI(api_key="warm-up")
    app = fastapi.FastAPI()

    @app.post("/u")
    async def upload(file: fastapi.UploadFile) -> dict:  # pragma: no cover - never served
        return {}

    app.openapi()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info")
    config.load()
    server = uvicorn.Server(config)
    asyncio.run(asyncio.sleep(0))
    del server


def main() -> int:
    workload()
    compiled = size = 0
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py") or not path.startswith(PREFIX):
            continue
        cfile = importlib.util.cache_from_source(path)
        py_compile.compile(
            path,
            cfile=cfile,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled += 1
        size += os.path.getsize(cfile)
    print(f"BYTECODE {compiled} imported modules under {PREFIX} compiled, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
