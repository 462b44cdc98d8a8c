"""What the figures look like: labels clear of the panel titles and of the toolbar."""


def test_training_curves_keep_their_labels_off_the_titles_and_the_toolbar():
    from ui.figures import training_curves

    empty = training_curves([], []).layout
    assert empty.yaxis3.visible is False  # no lone "β" beside empty axes
    step = dict(type="step", step=1, epoch=0.1, recon=10.0, kl=1.0, loss=11.0, beta=1.0)
    layout = training_curves([step, dict(step, step=2, beta=4.0)], [(2, 4.0)]).layout
    beta_labels = [a for a in layout.annotations if a.text.startswith("β→")]
    assert beta_labels and all(a.y < 1 and a.yanchor == "top" for a in beta_labels)  # inside the KL panel
    titles = [a for a in layout.annotations if "nats/image" in a.text]
    assert [t.xanchor for t in titles] == ["left", "left"] and titles[1].x < 0.6  # clear of the toolbar's corner
