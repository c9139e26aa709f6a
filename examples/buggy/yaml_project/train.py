"""MNIST training, its hyperparameters read from a YAML file and its loop in engine.py (trainlint
follows both there)."""

import argparse

import torch
import yaml
from engine import train_one_epoch
from model import build_model
from torch import nn
from torchvision import datasets, transforms

parser = argparse.ArgumentParser()
parser.add_argument("--config", default="configs/train.yaml")
args = parser.parse_args()

with open(args.config) as f:
    cfg = yaml.safe_load(f)

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = datasets.MNIST("data", train=True, download=True, transform=transform)
loader = torch.utils.data.DataLoader(
    train_set, batch_size=cfg["data"]["batch_size"], shuffle=True, num_workers=cfg["data"]["workers"]
)

model = build_model()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=cfg["optim"]["lr"], weight_decay=cfg["optim"]["weight_decay"])

scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg["lr_step_epochs"], gamma=0.1)

for epoch in range(cfg["epochs"]):
    loss = train_one_epoch(model, loader, criterion, optimizer, scheduler)
    print(f"epoch {epoch}: loss {loss:.3f}")
