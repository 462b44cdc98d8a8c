"""This view as one HTML file that opens without a server."""

import streamlit as st

from ui import catalogue, session


def html_download(row, md, projection: str, colour_by: str, label: int | None) -> None:
    """This view (model, map, colouring, label) as one HTML file that opens without a server: built when clicked."""
    from vae_core.analysis.html_export import export_html  # first paint: torch comes after the map

    model, meta = catalogue.load_model(row.path, row.mtime)
    model = model.with_label(label)
    data = None if md.missing_data else catalogue.dataset_for(meta)[0]
    test_x = None if data is None else data.test_x
    shown = session.image_shown()
    st.download_button(
        "Download this view as HTML",
        key="explore_html",
        icon=":material/download:",
        mime="text/html",
        file_name=f"{row.name.replace('/', '-')}-{projection}-{colour_by}.html",
        on_click="ignore",
        data=lambda: export_html(model, meta, md, test_x, projection, colour_by, shown, row.name),
        help="One file with the map coloured as here, the image decoded under the cursor, a clicked dot's test image "
        "and reconstruction, the decoded manifold and the training curves. It opens from disk in any browser, "
        "with no server and no network (about 5 MB: plotly.js is inside).",
    )
