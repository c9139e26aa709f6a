"""Schedulers stepped where they belong: OneCycleLR per batch, a cosine per epoch, ReduceLROnPlateau with
the validation loss, and an LBFGS closure. trainlint finds nothing here."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

EPOCHS = 30

train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)
model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 4))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
onecycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=EPOCHS * len(train_loader))
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)


def train_one_epoch(loader, scheduler):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()  # OneCycleLR is a per-step schedule


@torch.no_grad()
def evaluate(loader):
    model.eval()
    losses = [criterion(model(x), y).item() for x, y in loader]
    return sum(losses) / len(losses)


for epoch in range(EPOCHS):
    train_one_epoch(train_loader, onecycle)
    val_loss = evaluate(val_loader)
    plateau.step(val_loss)

# Fine-tuning the head with LBFGS and a cosine schedule stepped per epoch.
head = nn.Linear(64, 4)
lbfgs = torch.optim.LBFGS(head.parameters(), lr=0.5)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(lbfgs, T_max=10)
for epoch in range(10):
    for features, labels in train_loader:

        def closure():
            lbfgs.zero_grad()
            loss = criterion(head(features), labels)
            loss.backward()
            return loss

        lbfgs.step(closure)
    cosine.step()
