// The Monitor widget's front end (vae_explorer/monitor.py), joined after the app's canvas.js, charts.js and
// live_curves.js: the Train page's live curves (live_curves.js's draw) and the replay's map of the last epoch
// (charts.js's scatter), each on its own canvas, redrawn when the kernel sends new rows or a new frame.

function render({model, el}) {
  const root = document.createElement("div");
  root.className = "vae-monitor";
  const curves = chartCanvas(root, "data-vae-curves", "training curves: reconstruction, loss, KL and β per step");
  const caption = document.createElement("div");
  caption.setAttribute("data-vae-replay-caption", "");
  caption.style.cssText = "font:13px sans-serif;opacity:0.7;margin:8px 0 2px 56px";
  root.appendChild(caption);
  const map = chartCanvas(root, "data-vae-chart", "the map of the fixed test images at the last epoch's end");
  el.appendChild(root);
  const redraw = () => {
    draw(curves, {steps: model.get("steps"), epochs: model.get("epochs"), betaChanges: []});
    const frame = model.get("frame");
    map.style.display = frame && frame.x ? "block" : "none";
    if (!frame || !frame.x) return;
    caption.textContent = `map of the test images, epoch ${frame.epoch}`;
    const {ctx, width} = startDrawing(map, frame.height);
    scatter(ctx, width, frame);
    map.dataset.epoch = frame.epoch;
  };
  redraw();
  for (const name of ["steps", "epochs", "frame"]) model.on(`change:${name}`, redraw);
  const observer = new ResizeObserver(redraw);
  observer.observe(root);
  return () => observer.disconnect();
}

export default {render};
