// The click's decoded image, drawn in the page (ui/browser_decode.py): a click on the map (the "vae-map-click" event
// of selection.js) is decoded here at once, before the server has heard of it. The server's rerun then says what
// its panel shows (data.point: a free click's map position, or null for a dot or nothing), and this follows it.
// The canvas carries data-vae-decoded, the map point it shows, for tests and benchmarks to wait on.

const SIDE = 256;  // CSS pixels, as the server's image of a decoded point

function element(parent) {
  let figure = parent.querySelector("figure[data-vae-figure]");
  if (!figure) {
    figure = document.createElement("figure");
    figure.setAttribute("data-vae-figure", "");
    figure.style.cssText = "margin:0 0 0.5rem 0;display:none";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.style.cssText = "display:block;image-rendering:pixelated;max-width:100%";
    const caption = document.createElement("figcaption");
    caption.style.cssText = "font-size:14px;opacity:0.6;margin-top:0.25rem";
    figure.append(canvas, caption);
    parent.appendChild(figure);
  }
  return figure;
}

export default function (component) {
  const data = component.data || {};
  const figure = element(component.parentElement);
  const canvas = figure.querySelector("canvas"), caption = figure.querySelector("figcaption");
  const state = figure.__vae || (figure.__vae = {shown: null, asked: 0, waiting: null});
  const shownAs = (point) => `${data.view} [${point[0]}, ${point[1]}]`;
  // wait: the server's panel leaves this point to the page, whose decoder may get this view a moment later (the
  // decoder component's data of the same run); a click's point is not waited for: the server draws that one
  const show = async (point, wait = false) => {
    const decoder = decoderFor(data.view);
    const asked = ++state.asked;
    state.waiting = !decoder && wait ? point : null;
    if (!decoder) return;
    try {
      const images = await decoder.decode([point]);
      if (asked !== state.asked) return;  // a newer click is on its way
      const shape = decoder.info.image_shape;
      drawImage(canvas, images, shape, 0, Math.max(1, Math.floor(SIDE / shape[2])));
      const text = `[${point[0]}, ${point[1]}]`;
      canvas.setAttribute("data-vae-decoded", text);
      canvas.setAttribute("aria-label", `the image decoded at ${text}`);
      caption.textContent = "decoded image · in your browser";
      figure.style.display = "block";
      state.shown = shownAs(point);
    } catch (err) {
      figure.style.display = "none";  // decoder.js tells the server, which decodes from now on
    }
  };
  const hide = () => {
    ++state.asked;
    state.waiting = null;
    figure.style.display = "none";
    canvas.removeAttribute("data-vae-decoded");
    state.shown = null;
  };
  // Streamlit calls this again with each new data and runs only the last cleanup, when the element goes: one listener
  // of each kind, the newest
  if (state.onClick) window.removeEventListener("vae-map-click", state.onClick);
  if (state.onView) window.removeEventListener("vae-decoder-view", state.onView);
  const onClick = (state.onClick = (e) => show([e.detail.x, e.detail.y]));
  const onView = (state.onView = () => state.waiting && show(state.waiting, true));
  window.addEventListener("vae-map-click", onClick);
  window.addEventListener("vae-decoder-view", onView);
  if (!data.point) hide();
  else if (state.shown !== shownAs(data.point)) show(data.point, true);  // a new point, label or image shown
  return () => {
    window.removeEventListener("vae-map-click", onClick);
    window.removeEventListener("vae-decoder-view", onView);
  };
}
