"""vae_explorer: the explorer in a notebook (Jupyter, VS Code, Colab, marimo), on your own model and training loop.

    from vae_explorer import Explorer, Monitor
    Explorer(model, data)                     # the latent map: click to decode, hover, box or lasso select
    monitor = Monitor(model, data)            # in your loop: monitor.log(step, recon=..., kl=..., beta=...)

A front end beside the app's (ui/): it imports the engine (vae_core), which never imports it. Needs the notebook
extra: pip install '.[notebook]'.
"""

from vae_explorer.explorer import Explorer
from vae_explorer.monitor import Monitor

__all__ = ["Explorer", "Monitor"]
