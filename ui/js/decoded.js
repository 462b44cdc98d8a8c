// The click's decoded image, drawn in the page (ui/browser_decode.py): a click on the map (the "vae-map-click" event
// of selection.js) is decoded here at once, before the server has heard of it. The server's rerun then says what
// its panel shows (data.point: a free click's map position, or null for a dot or nothing), and this follows it.
// The canvas carries data-vae-decoded, the map point it shows, for tests and benchmarks to wait on.
// Under the image: the point, its z and the "Use as A/B" buttons, made here rather than by the server, because a
// free click the page decodes while this panel shows a free point is never sent to the server (selection.js): the
// server hears of it only when a button asks for it (the trigger value "pick").

const SIDE = 256;  // CSS pixels, as the server's image of a decoded point

function element(parent) {
  let figure = parent.querySelector("figure[data-vae-figure]");
  if (!figure) {
    figure = document.createElement("figure");
    figure.setAttribute("data-vae-figure", "");
    figure.style.cssText = "margin:0 0 0.5rem 0;display:none";
    const canvas = pixelCanvas();
    const caption = document.createElement("figcaption");
    caption.style.cssText = "font-size:14px;opacity:0.6;margin-top:0.25rem";
    const where = document.createElement("p");  // "Decoded at (x, y)", as the server's panel writes it
    where.setAttribute("data-vae-where", "");
    where.style.cssText = "margin:0.75rem 0 0.25rem 0";
    const z = document.createElement("p");
    z.setAttribute("data-vae-z", "");
    z.style.cssText = "font-size:14px;opacity:0.6;margin:0 0 0.5rem 0";
    const buttons = document.createElement("div");
    buttons.style.cssText = "display:flex;gap:0.75rem";
    for (const slot of ["A", "B"]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Use as ${slot}`;
      button.setAttribute("data-vae-slot", slot);
      button.style.cssText = "flex:1;padding:0.4rem 0.75rem;border-radius:0.5rem;border:1px solid rgba(49,51,63,0.2);" +
        "background:transparent;color:inherit;font:inherit;cursor:pointer";
      buttons.appendChild(button);
    }
    const details = document.createElement("div");  // hidden while the server's panel of a dot may still be shown
    details.setAttribute("data-vae-details", "");
    details.append(where, z, buttons);
    figure.append(canvas, caption, details);
    parent.appendChild(figure);
  }
  return figure;
}

export default function (component) {
  const data = component.data || {};
  const figure = element(component.parentElement);
  const canvas = figure.querySelector("canvas"), caption = figure.querySelector("figcaption");
  const state = figure.__vae || (figure.__vae = {shown: null, asked: 0, waiting: null, point: null});
  const where = figure.querySelector("[data-vae-where]"), zText = figure.querySelector("[data-vae-z]");
  const shownAs = (point) => `${data.view} [${point[0]}, ${point[1]}]`;
  // wait: the server's panel leaves this point to the page, whose decoder may get this view a moment later (the
  // decoder component's data of the same run); a click's point is not waited for: the server draws that one
  const details = figure.querySelector("[data-vae-details]");
  // details: the point, z and buttons shown with the image: not for a click sent to the server until its run says
  // what its panel shows (the panel of a dot, with its own buttons, may still be there)
  const show = async (point, wait = false, withDetails = true) => {
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
      // as ui/explore/clicked.py writes them: two decimals, z's first 8 coordinates
      where.innerHTML = `<strong>Decoded at</strong> (${point[0].toFixed(2)}, ${point[1].toFixed(2)})`;
      const code = Array.from(toLatent(decoder.info, [point]));
      const shown = code.slice(0, 8).map((v) => v.toFixed(2)).join(", ") + (code.length > 8 ? ", …" : "");
      zText.textContent = `${data.z_prefix || "z = "}[${shown}]`;
      for (const button of figure.querySelectorAll("[data-vae-slot]")) {
        const now = (data.picked || {})[button.getAttribute("data-vae-slot")];
        button.title = "An endpoint of the interpolation on the Generate page" + (now ? `; now: ${now}` : ".");
      }
      state.point = point;
      details.style.display = withDetails ? "block" : "none";
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
    state.point = null;
  };
  // Streamlit calls this again with each new data and runs only the last cleanup, when the element goes: one listener
  // of each kind, the newest
  if (state.onClick) window.removeEventListener("vae-map-click", state.onClick);
  if (state.onView) window.removeEventListener("vae-decoder-view", state.onView);
  const onClick = (state.onClick = (e) => {
    state.local = e.detail.local ? [e.detail.x, e.detail.y] : null;  // a point the server has not heard of
    show([e.detail.x, e.detail.y], false, !!e.detail.local);
  });
  for (const button of figure.querySelectorAll("[data-vae-slot]")) {  // the newest component's trigger
    button.onclick = () => state.point &&
      component.setTriggerValue("pick", {slot: button.getAttribute("data-vae-slot"), x: state.point[0], y: state.point[1]});
  }
  const onView = (state.onView = () => state.waiting && show(state.waiting, true));
  window.addEventListener("vae-map-click", onClick);
  window.addEventListener("vae-decoder-view", onView);
  // the server's point as it last said it: while it says the same, a point the page kept to itself since stays
  const said = JSON.stringify(data.point || null);
  if (said !== state.said) state.local = null;
  state.said = said;
  const point = data.point && state.local ? state.local : data.point;
  if (!point) hide();
  else if (state.shown !== shownAs(point)) show(point, true);  // a new point, label or image shown
  else details.style.display = "block";  // the server's panel shows this point now
  return () => {
    window.removeEventListener("vae-map-click", onClick);
    window.removeEventListener("vae-decoder-view", onView);
  };
}
