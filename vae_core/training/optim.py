"""Adam (Kingma & Ba 2015), the update torch.optim.Adam(fused=True) makes with its defaults, called directly.

Why not torch.optim.Adam: its step() imports torch._dynamo, which takes about as long as importing torch itself,
so every training process and every CLI run would pay that before its first step, and a fresh server's first
run would wait for it (BENCHMARKS.md, section 14, has the figures). The update below is torch's own fused
kernel, the one torch/optim/adam.py's `_fused_adam` calls (amsgrad, weight decay and maximize off), and a test
checks it against torch.optim.Adam(fused=True) step by step. Fused, not the multi-tensor (foreach) form: one
pass over each parameter instead of seven, which made the step 4-5x faster on an MLP of the recipe's size
(BENCHMARKS.md, section 1).
"""

from __future__ import annotations

import torch

from vae_core.config import InputError


class Adam:
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]  # m: the gradients' running mean
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]  # v: their running uncentred variance

    def state_dict(self) -> dict:
        """What the update depends on besides the parameters: plain values and tensors (a checkpoint stores them)."""
        return dict(
            steps=self.steps,
            exp_avg=[t.detach().cpu().clone() for t in self.exp_avg],
            exp_avg_sq=[t.detach().cpu().clone() for t in self.exp_avg_sq],
        )

    def load_state_dict(self, state: dict) -> None:
        shapes = [tuple(p.shape) for p in self.params]
        if [tuple(t.shape) for t in state["exp_avg"]] != shapes or [tuple(t.shape) for t in state["exp_avg_sq"]] != shapes:
            raise InputError("the optimizer state is for parameters of other shapes")
        self.steps = int(state["steps"])
        self.exp_avg = [t.to(p.device, p.dtype).clone() for t, p in zip(state["exp_avg"], self.params)]
        self.exp_avg_sq = [t.to(p.device, p.dtype).clone() for t, p in zip(state["exp_avg_sq"], self.params)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter (each one of a VAE gets a gradient at every step)."""
        self.steps += 1
        # the kernel reads the step count (for the bias corrections) as a tensor beside each parameter
        counts = [torch.tensor(float(self.steps), device=p.device) for p in self.params]
        beta1, beta2 = self.betas
        torch._fused_adam_(
            self.params,
            [p.grad for p in self.params],
            self.exp_avg,
            self.exp_avg_sq,
            [],  # amsgrad's running maxima: none
            counts,
            lr=self.lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )
