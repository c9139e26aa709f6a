"""A CIFAR-10 CNN with the model mistakes trainlint reads from the code alone.

- the classifier expects 16 * 5 * 5 features (LeNet's figure for 32x32 input with unpadded 5x5
  convolutions), but these convolutions are padded, so the flatten gives 16 * 8 * 8 (TL501);
- `self.dropout` is built and never applied (TL302);
- the large MLP head is trained by Adam with no weight decay and no other regularization (TL301);
- the linear probe folds the batch into one row with `view(1, -1)` (TL503).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=2)
        self.dropout = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 5 * 5, 4096)
        self.fc2 = nn.Linear(4096, 4096)
        self.fc3 = nn.Linear(4096, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Probe(nn.Module):
    """A linear probe on the first block's features."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.head = nn.Linear(8 * 32 * 32, 10)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.head(x.view(1, -1))


transform = T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])
train_set = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=transform)
loader = DataLoader(train_set, batch_size=64, shuffle=True)

model = Net()
probe = Probe()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
probe_optimizer = torch.optim.SGD(probe.parameters(), lr=0.01, weight_decay=5e-4)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        probe_optimizer.zero_grad()
        criterion(probe(images), labels).backward()
        probe_optimizer.step()
