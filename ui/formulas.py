"""What the pages say about the math: the loss and its terms in LaTeX, as each likelihood and objective define
them (vae_core.model.bounds computes them), and why a loss can be negative."""

from __future__ import annotations

from vae_core.config import LIKELIHOODS

# The terms in LaTeX, as each likelihood defines them, for the page to show beside the curves they produce;
# "where" says what the decoder's output is.
RECON_LATEX = {
    "bernoulli": (
        r"\text{recon} = -\sum_i \big[x_i \log \hat x_i + (1 - x_i) \log(1 - \hat x_i)\big]",
        r"\hat x = \operatorname{sigmoid}(\text{decoder}(z))",
    ),
    "continuous-bernoulli": (
        r"\text{recon} = -\sum_i \big[x_i \log \lambda_i + (1 - x_i) \log(1 - \lambda_i)"
        r" + \log C(\lambda_i)\big]",
        r"\lambda = \operatorname{sigmoid}(\text{decoder}(z)),\;"
        r" C(\lambda) = \tfrac{2 \operatorname{artanh}(1 - 2\lambda)}{1 - 2\lambda}",
    ),
    "gaussian": (
        r"\text{recon} = \sum_i \Big[\frac{(x_i - \hat x_i)^2}{2\sigma^2} + \log \sigma"
        r" + \tfrac{1}{2} \log 2\pi\Big]",
        r"\hat x = \text{decoder}(z),\; \sigma \text{ learned}",
    ),
}
KL_LATEX = r"\text{KL} = -\tfrac{1}{2} \sum_j \big(1 + \log \sigma_j^2 - \mu_j^2 - \sigma_j^2\big)"
LOSS_LATEX = r"\text{loss} = \text{recon} + \beta \cdot \text{KL}"
SAMPLE_LATEX = r"z = \mu + \sigma \odot \varepsilon,\;\; \varepsilon \sim \mathcal{N}(0, I)"


def loss_latex(objective: str = "elbo", iwae_k: int = 5, free_bits: float = 0.0, tc_weight: float = 1.0) -> str:
    """What a run minimises, in LaTeX (vae_core.model.bounds.training_terms): the β-ELBO, the IWAE bound or β-TCVAE,
    with free bits."""
    floor = rf",\;\; F = {free_bits:g}" if free_bits > 0 else ""
    extra = [r"\beta \sum_d \max(0, F - \overline{\text{KL}}_d)" + floor] if free_bits > 0 else []
    if objective == "iwae":
        first = (
            r"-\log \frac{1}{k} \sum_{i=1}^{k} \frac{p(x \mid z_i)\, p(z_i)^{\beta}}"
            + rf"{{q(z_i \mid x)^{{\beta}}}},\;\; k = {iwae_k}"
        )
        return _loss_lines([first, *extra])
    if objective == "tcvae":
        first = r"\text{recon} + \beta \big(I(x; z) + \textstyle\sum_d \text{KL}(q(z_d) \,\|\, p(z_d))\big)"
        return _loss_lines([first, rf"W \cdot \text{{TC}},\;\; W = {tc_weight:g}", *extra])
    if free_bits > 0:
        return r"\text{loss} = \text{recon} + \beta \sum_d \max(F, \overline{\text{KL}}_d)" + floor
    return LOSS_LATEX


def _loss_lines(terms: list[str]) -> str:
    """loss = the terms added up, each after the first on a line of its own: a long objective (β-TCVAE with free
    bits) stays inside its column instead of running off it."""
    if len(terms) == 1:
        return r"\text{loss} = " + terms[0]
    return r"\begin{aligned} \text{loss} &= " + terms[0] + "".join(rf" \\ &\quad + {t}" for t in terms[1:]) + r" \end{aligned}"


def elbo_formulas(
    likelihood: str, objective: str = "elbo", iwae_k: int = 5, free_bits: float = 0.0, tc_weight: float = 1.0
) -> dict[str, str]:
    """The loss (as the run's objective defines it), its two terms under this likelihood (and what the decoder's
    output is), and the sample the reconstruction is taken at, in LaTeX."""
    if likelihood not in RECON_LATEX:
        raise ValueError(f"unknown likelihood {likelihood!r}; expected one of {LIKELIHOODS}")
    recon, where = RECON_LATEX[likelihood]
    return dict(
        loss=loss_latex(objective, iwae_k, free_bits, tc_weight), recon=recon, where=where, kl=KL_LATEX, sample=SAMPLE_LATEX
    )


def negative_loss_note(likelihood: str) -> str | None:
    """Why a loss under this likelihood can be negative, or None when it cannot."""
    if likelihood == "bernoulli":
        return None
    return (
        f"The {likelihood} likelihood is a density, and a density exceeds 1 where it is peaked, so −log p(x|z) "
        "and the losses built on it can be below zero: that is normal, lower is still better, and only models "
        "with the same likelihood can be compared."
    )
