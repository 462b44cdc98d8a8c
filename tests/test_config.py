def test_the_latent_size_in_use_grows_with_the_log_of_the_images():
    from vae_core.config import latent_dims_in_use

    assert latent_dims_in_use(60_000) == 24 >= 20  # MNIST: the conv default of 20 is not too many
    assert latent_dims_in_use(1_438) == 16  # digits: 4 of 16 in use in the shipped model, never more than this
    assert latent_dims_in_use(1) == latent_dims_in_use(0) == 2
