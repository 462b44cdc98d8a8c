"""This view as one HTML file that opens without a server."""

import streamlit as st

from ui import catalogue, session
from ui.explore.browser_decode import decoder_problem

GRID_MB = 5  # plotly.js, the sprites and the data: about 5 MB; the decoder and its runtime come on top


def html_download(row, md, projection: str, colour_by: str, label: int | None) -> None:
    """This view (model, map, colouring, label) as one HTML file that opens without a server: built when clicked. It
    carries the decoder and onnxruntime-web, and so decodes the exact point under the cursor, wherever the page
    here can (ui/explore/browser_decode.py); else the nearest of a grid of decodes."""
    from vae_core.analysis.html_export import export_html  # first paint: torch comes after the map
    from vae_core.model.onnx_io import browser_decoder
    from vae_core.store.web_runtime import runtime_dir

    model, meta = catalogue.load_model(row.path, row.mtime)
    model = model.with_label(label)
    data = None if md.missing_data else catalogue.dataset_for(meta)[0]
    test_x = None if data is None else data.test_x
    shown = session.image_shown()
    exact = decoder_problem(row, md, label) is None
    megabytes = GRID_MB
    if exact:  # base64 in the page: 4 bytes for 3
        megabytes += sum(f.stat().st_size for f in runtime_dir().iterdir() if f.is_file()) * 4 / 3 / 2**20

    def page() -> str:
        from vae_core.store.web_runtime import RuntimeMissing, read_runtime

        in_page = None
        if exact:
            try:
                in_page = browser_decoder(model, row.path), read_runtime()
            except (RuntimeMissing, ValueError):  # gone since the page was drawn: the grid of decodes
                in_page = None
        return export_html(model, meta, md, test_x, projection, colour_by, shown, row.name, in_page)

    st.download_button(
        f"Download this view as HTML (about {megabytes:.0f} MB)",
        key="explore_html",
        icon=":material/download:",
        mime="text/html",
        file_name=f"{row.name.replace('/', '-')}-{projection}-{colour_by}.html",
        on_click="ignore",
        data=page,
        help="One file with the map coloured as here, the image decoded under the cursor, a clicked dot's test image "
        "and reconstruction, the decoded manifold and the training curves. It opens from disk in any browser, "
        "with no server and no network: plotly.js is inside"
        + (", and the model's decoder with onnxruntime-web, so it decodes the exact point under the cursor." if exact else "."),
    )
