"""Loops trainlint understands and finds nothing wrong with: a GAN with two optimizers (BCEWithLogitsLoss on
raw logits), AMP with unscale_ before clipping, gradient accumulation, and evaluation in eval mode under
no_grad with the train mode restored."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

loader = DataLoader(dataset, batch_size=128, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)

generator = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
discriminator = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1))
adversarial = nn.BCEWithLogitsLoss()
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
scaler = torch.cuda.amp.GradScaler()
ACCUMULATE = 2

for epoch in range(50):
    discriminator.train()
    for i, (real, _) in enumerate(loader):
        real = real.view(real.size(0), -1)
        noise = torch.randn(real.size(0), 100)
        ones, zeros = torch.ones(real.size(0), 1), torch.zeros(real.size(0), 1)

        with torch.autocast("cuda"):
            d_loss = adversarial(discriminator(real), ones) + adversarial(discriminator(generator(noise).detach()), zeros)
        scaler.scale(d_loss / ACCUMULATE).backward()
        if (i + 1) % ACCUMULATE == 0:
            scaler.unscale_(opt_d)
            torch.nn.utils.clip_grad_norm_(discriminator.parameters(), 1.0)
            scaler.step(opt_d)
            opt_d.zero_grad(set_to_none=True)

        opt_g.zero_grad(set_to_none=True)
        with torch.autocast("cuda"):
            g_loss = adversarial(discriminator(generator(noise)), ones)
        scaler.scale(g_loss).backward()
        scaler.step(opt_g)
        scaler.update()

    discriminator.eval()
    with torch.no_grad():
        scores = [torch.sigmoid(discriminator(x.view(x.size(0), -1))).mean().item() for x, _ in val_loader]
