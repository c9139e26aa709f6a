"""A small regression MLP with dropout, trained with SGD and a StepLR decayed once per epoch.

The classic remedies of a "loss does not go down" write-up, written correctly:
trainlint reports nothing here.
"""

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

NUM_EPOCHS = 30


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.fc1 = nn.Linear(10, 50)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(50, 1)

    def forward(self, x):
        x = self.fc1(x)
        x = nn.ReLU()(x)
        x = self.dropout(x)
        x = self.fc2(x)
        return x


def train(model, loader, optimizer, criterion):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader, criterion):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for inputs, targets in loader:
            total += criterion(model(inputs), targets).item()
    return total / len(loader)


def main():
    features = torch.randn(1024, 10)
    targets = features.sum(dim=1, keepdim=True)
    train_loader = DataLoader(TensorDataset(features[:896], targets[:896]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(features[896:], targets[896:]), batch_size=64)

    model = MyModel()
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)

    for epoch in range(NUM_EPOCHS):
        train_loss = train(model, train_loader, optimizer, criterion)
        scheduler.step()
        val_loss = evaluate(model, val_loader, criterion)
        print(f"epoch {epoch}: train {train_loss:.4f} val {val_loss:.4f}")


if __name__ == "__main__":
    main()
