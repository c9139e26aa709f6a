"""A trainer configured from a dict: the learning rate travels cfg -> Trainer(lr) -> self.lr -> Adam.

trainlint reports TL101 (Adam at 0.1), TL103 (Adam with coupled weight decay)
and TL102 (a beta of 1.0, which torch rejects).
"""

import torch
import torch.nn as nn

CONFIG = {
    "model": {"hidden": 256, "dropout": 0.1},
    "optim": {"lr": 0.1, "weight_decay": 1e-4, "betas": (0.9, 1.0)},
    "epochs": 5,
}


class Classifier(nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(32, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 4),
        )

    def forward(self, x):
        return self.net(x)


class Trainer:
    def __init__(self, model, lr, weight_decay, betas):
        self.model = model
        self.lr = lr
        self.weight_decay = weight_decay
        self.betas = betas
        self.optimizer = torch.optim.Adam(
            model.parameters(),
            lr=self.lr,
            betas=self.betas,
            weight_decay=self.weight_decay,
        )
        self.criterion = nn.CrossEntropyLoss()

    def step(self, inputs, targets):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(inputs), targets)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def main():
    model = Classifier(CONFIG["model"]["hidden"], CONFIG["model"]["dropout"])
    opt_cfg = CONFIG["optim"]
    trainer = Trainer(model, opt_cfg["lr"], opt_cfg["weight_decay"], opt_cfg["betas"])
    inputs, targets = torch.randn(64, 32), torch.randint(0, 4, (64,))
    for epoch in range(CONFIG["epochs"]):
        print(epoch, trainer.step(inputs, targets))


if __name__ == "__main__":
    main()
