"""Adam (Kingma & Ba 2015), the update torch.optim.Adam makes with its defaults, written out.

Why not torch.optim.Adam: its step() imports torch._dynamo, which takes about as long as importing torch itself,
so every training process and every CLI run would pay that before its first step, and a fresh server's first
run would wait for it (BENCHMARKS.md, section 14, has the figures). The update below is the same one, op for op
(torch/optim/adam.py, `_multi_tensor_adam` with amsgrad, weight decay and maximize off), and a test checks it
against torch.optim.Adam step by step.
"""

from __future__ import annotations

import math

import torch


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
            raise ValueError("the optimizer state is for parameters of other shapes")
        self.steps = int(state["steps"])
        self.exp_avg = [t.to(p.device, p.dtype).clone() for t, p in zip(state["exp_avg"], self.params)]
        self.exp_avg_sq = [t.to(p.device, p.dtype).clone() for t, p in zip(state["exp_avg_sq"], self.params)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter (each one of a VAE gets a gradient at every step)."""
        params, m, v = self.params, self.exp_avg, self.exp_avg_sq
        grads = [p.grad for p in params]
        beta1, beta2 = self.betas
        self.steps += 1
        torch._foreach_lerp_(m, grads, 1 - beta1)  # m = beta1 m + (1 - beta1) g
        torch._foreach_mul_(v, beta2)
        torch._foreach_addcmul_(v, grads, grads, 1 - beta2)  # v = beta2 v + (1 - beta2) g^2
        step_size = self.lr / (1 - beta1**self.steps)  # the bias corrections of m and v
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, math.sqrt(1 - beta2**self.steps))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, m, denom, -step_size)  # theta -= step_size m / (sqrt(v / bc2) + eps)
