"""The pytorch/examples VAE recipe (https://github.com/pytorch/examples/blob/main/vae/main.py), re-implemented
faithfully and run as its own process so its whole-process time compares with `python -m vae_core train`.

    python benchmarks/recipe_pytorch_examples.py --data FOLDER --split SPLIT.json --out DIR [--epochs 10]

As in the recipe: fc1 784->400 ReLU, fc21/fc22 400->20, fc3 20->400 ReLU, fc4 400->784 sigmoid; loss
BCE(sum) + KLD; Adam lr 1e-3; batch 128; a DataLoader (no workers on CPU) over a torchvision dataset
with a per-sample transforms.ToTensor(), shuffle=True; a test pass and the two sample images per epoch.
What differs, so both engines see the same data: the dataset is torchvision.datasets.ImageFolder
over a folder of PNGs (grayscale loader), cut with Subset to the train/test file lists in SPLIT.json;
the input size comes from the images (784 for MNIST); the seed defaults to 0.
--source memory decodes the PNGs once into a uint8 tensor and converts per sample as
torchvision.datasets.MNIST does (Image.fromarray, then ToTensor): the recipe's own in-memory path.

Writes DIR/model.pt (state dict) and DIR/metrics.json: per-epoch train-loop seconds (the batches of the
epoch, its test pass and sample images excluded), average train loss and test loss (nats per image).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.utils.data
from PIL import Image
from torch import nn, optim
from torch.nn import functional as F
from torchvision import datasets, transforms
from torchvision.utils import save_image


class VAE(nn.Module):
    def __init__(self, pixels: int = 784):
        super().__init__()
        self.pixels = pixels
        self.fc1 = nn.Linear(pixels, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, pixels)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.pixels))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar, pixels):
    """Reconstruction + KL divergence, summed over all elements and the batch."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, pixels), reduction="sum")
    # Kingma and Welling 2014, Appendix B: -0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def grayscale(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("L")  # ImageFolder's default loader makes RGB


class InMemory(torch.utils.data.Dataset):
    """uint8 images (N, H, W) converted per sample as torchvision.datasets.MNIST.__getitem__ does."""

    def __init__(self, folder_dataset):
        self.data = torch.stack([torch.from_numpy(np.asarray(img)) for img, _ in folder_dataset])
        self.targets = folder_dataset.targets
        self.transform = transforms.ToTensor()

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.data[i].numpy())), self.targets[i]  # 2-D uint8: mode "L"


def loaders(folder: str, split_file: str, batch_size: int, source: str):
    """Train and test DataLoaders over the split's files, in the order the split lists them."""
    split = json.loads(Path(split_file).read_text())
    raw = datasets.ImageFolder(folder, loader=grayscale)
    index = {str(Path(path).relative_to(folder)): i for i, (path, _) in enumerate(raw.samples)}
    train_idx, test_idx = ([index[f] for f in split[part]] for part in ("train", "test"))
    if source == "memory":
        raw = InMemory(raw)
    else:
        raw.transform = transforms.ToTensor()
    train_set, test_set = torch.utils.data.Subset(raw, train_idx), torch.utils.data.Subset(raw, test_idx)
    return (
        torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True),
        torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=True),
    )


def train(model, optimizer, loader, epoch, log_interval=10):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar, model.pixels)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(loader.dataset)} "
                f"({100.0 * batch_idx / len(loader):.0f}%)]\tLoss: {loss.item() / len(data):.6f}"
            )
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(loader.dataset):.4f}")
    return train_loss / len(loader.dataset)


def test(model, loader, epoch, results: Path, shape):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(loader):
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar, model.pixels).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(-1, *shape)[:n]])
                save_image(comparison, results / f"reconstruction_{epoch}.png", nrow=n)
    test_loss /= len(loader.dataset)
    print(f"====> Test set loss: {test_loss:.4f}")
    return test_loss


def main() -> None:
    parser = argparse.ArgumentParser(description="pytorch/examples VAE recipe on a folder of images")
    parser.add_argument("--data", required=True, help="folder of images in class sub-folders")
    parser.add_argument("--split", required=True, help='JSON {"train": [files], "test": [files]}, relative to --data')
    parser.add_argument("--out", required=True, help="folder for model.pt, metrics.json and the sample images")
    parser.add_argument("--source", default="folder", choices=["folder", "memory"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_loader, test_loader = loaders(args.data, args.split, args.batch_size, args.source)
    shape = tuple(train_loader.dataset[0][0].shape)  # (C, H, W)
    model = VAE(pixels=shape[0] * shape[1] * shape[2])
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    metrics = dict(
        source=args.source,
        n_train=len(train_loader.dataset),
        n_test=len(test_loader.dataset),
        epoch_train_s=[],
        train_loss=[],
        test_loss=[],
    )
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        metrics["train_loss"].append(train(model, optimizer, train_loader, epoch))
        metrics["epoch_train_s"].append(time.perf_counter() - t0)
        metrics["test_loss"].append(test(model, test_loader, epoch, out, shape))
        with torch.no_grad():
            sample = model.decode(torch.randn(64, 20))
            save_image(sample.view(64, *shape), out / f"sample_{epoch}.png")
    torch.save(model.state_dict(), out / "model.pt")
    (out / "metrics.json").write_text(json.dumps(metrics))


if __name__ == "__main__":
    main()
