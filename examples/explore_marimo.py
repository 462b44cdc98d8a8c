"""The explorer in marimo: the same widget as in Jupyter, wrapped by marimo's anywidget support.

marimo edit examples/explore_marimo.py
"""

import marimo

app = marimo.App()


@app.cell
def _():
    import importlib.util
    import sys

    import marimo as mo

    if importlib.util.find_spec("vae_explorer") is None:  # run from a checkout, without `pip install '.[notebook]'`
        sys.path.insert(0, str(mo.notebook_dir().parent))

    from vae_core import load_dataset
    from vae_explorer import Explorer

    data = load_dataset("digits")  # 8x8 digits, bundled: no download
    explorer = mo.ui.anywidget(Explorer(mo.notebook_dir().parent / "checkpoints" / "digits-2d.pt", data))
    explorer
    return explorer, mo


@app.cell
def _(explorer, mo):
    # marimo runs this cell again after each click, box or lasso on the map above
    mo.md(f"**{len(explorer.widget.selected)} selected**; the last click: {explorer.widget.clicked or 'none yet'}")
    return


if __name__ == "__main__":
    app.run()
