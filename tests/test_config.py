def test_the_latent_size_in_use_grows_with_the_log_of_the_images():
    from vae_core.config import latent_dims_in_use

    assert latent_dims_in_use(60_000) == 24 >= 20  # MNIST: the conv default of 20 is not too many
    assert latent_dims_in_use(1_438) == 16  # digits: 4 of 16 in use in the shipped model, never more than this
    assert latent_dims_in_use(1) == latent_dims_in_use(0) == 2


def test_settings_hold_the_kinds_their_fields_name_and_say_which_does_not():
    import numpy as np
    import pytest
    import torch

    from vae_core.config import DataOptions, InputError, TrainConfig, VAEConfig

    assert TrainConfig(seed=np.int64(3), lr=np.float32(0.5), epochs=np.int32(2)).seed == 3  # numpy's numbers are numbers
    assert VAEConfig(image_shape=[1, 8, 8], hidden=[16]).hidden == (16,)  # lists, as a stored dict holds them
    refused = [
        (lambda: VAEConfig(latent_dim=1e308), "latent_dim must be a whole number, got 1e+308"),
        (lambda: VAEConfig(latent_dim=True), "latent_dim must be a whole number, got True"),
        (lambda: VAEConfig(image_shape=(1, 8, torch.tensor(8))), "image_shape must be whole numbers, got a tuple"),
        (lambda: VAEConfig(latent_dim=2**40), "latent_dim must be a whole number, got 1099511627776"),
        (lambda: TrainConfig(seed=-1), "seed must be a whole number from 0 to 4294967295, got -1"),
        (lambda: TrainConfig(lr=torch.zeros(3)), "lr must be a number, got a Tensor"),
        (lambda: DataOptions(name=["a"]), "name must be text, got ['a']"),
        (lambda: DataOptions(split_seed=float("nan")), "split_seed must be a whole number from 0 to 4294967295, got nan"),
    ]
    for make, message in refused:
        with pytest.raises(InputError) as caught:
            make()
        assert str(caught.value) == message
