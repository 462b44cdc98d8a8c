// This browser's token (ui/owner.py): a random id kept in local storage (per address: a server restarted at the same
// one finds it again), so that every tab of this browser lists the runs started from it, and no other browser
// does. Sent to the server as the component's state "token" whenever the data it renders with say the server
// does not have it yet (a new session: a new tab, a reload, a restarted server).
export default function (component) {
  const KEY = "vae-explorer-owner";
  let token = localStorage.getItem(KEY);
  if (!/^[0-9a-f]{32}$/.test(token || "")) {
    token = crypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
    localStorage.setItem(KEY, token);
  }
  if ((component.data || {}).known !== token) component.setStateValue("token", token);
  // the page is drawn for this browser's runs: tests wait for it rather than for the token's rerun, which may come late
  else document.documentElement.dataset.vaeOwnerKnown = token;
}
