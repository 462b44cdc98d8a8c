"""The live curves' rows: what the browser's canvas is sent of a run's events, from where it left off."""

from ui.live_curves import curve_rows


def events(n_steps: int, epoch_every: int) -> list[dict]:
    out = []
    for i in range(1, n_steps + 1):
        out.append(dict(type="step", step=10 * i, recon=30.0 - i, loss=32.0 - i, kl=2.0 + 0.1 * i, beta=1.0 + i % 2))
        if i % epoch_every == 0:
            out.append(dict(type="epoch", step=10 * i, test_recon=29.0 - i, test_loss=31.0 - i, test_kl=2.5))
    return out


def test_rows_are_the_steps_and_epochs_from_the_given_positions_on():
    history = events(7, 3)
    steps, epochs = curve_rows(history)
    assert [r[0] for r in steps] == [10, 20, 30, 40, 50, 60, 70] and [r[0] for r in epochs] == [30, 60]
    assert steps[1] == [20, 28.0, 30.0, 2.2, 1.0]  # step, recon, loss, KL, beta
    assert epochs[0] == [30, 26.0, 28.0, 2.5]  # step, test recon, test -ELBO, test KL
    later_steps, later_epochs = curve_rows(history, from_step=5, from_epoch=1)
    assert later_steps == steps[5:] and later_epochs == epochs[1:]


def test_sending_in_pieces_gives_the_whole_run_once():
    history, sent_steps, sent_epochs = events(25, 4), [], []
    for n in (3, 11, 12, 25):  # the events the run had at each poll
        steps, epochs = curve_rows(history[: n + n // 4], len(sent_steps), len(sent_epochs))
        sent_steps += steps
        sent_epochs += epochs
    assert (sent_steps, sent_epochs) == curve_rows(history)
