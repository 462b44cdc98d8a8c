// The Explore map's selection (ui/selection.py), put into the chart's layout with Plotly.relayout and put back
// whenever the chart is drawn anew. Runs after the constant SETTLE_MS that the Python side sets.

export default function (component) {
  window.__vaeSelection = (component.data && component.data.shapes) || [];
  const sync = () => {
    const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    if (!gd || !gd._fullLayout || !window.Plotly) return;
    // Leave a new chart alone for its first moments: a relayout then can make Streamlit miss the next click on
    // it (seen in Chromium on a UMAP map opened by link); SETTLE_MS later it does not.
    gd.__vaeSeen = gd.__vaeSeen || performance.now();
    if (performance.now() - gd.__vaeSeen < SETTLE_MS) return;
    const shapes = gd.layout.shapes || [];
    const shown = shapes.filter((s) => s.name === "selection");
    if (JSON.stringify(shown) === JSON.stringify(window.__vaeSelection)) return;
    window.Plotly.relayout(gd, {shapes: [...shapes.filter((s) => s.name !== "selection"), ...window.__vaeSelection]});
  };
  sync();
  if (!window.__vaeSelectionTimer) window.__vaeSelectionTimer = setInterval(sync, 100);
}
