"""FashionMNIST pipelines done right: ToTensor, then this dataset's one-channel statistics."""

import torch
from torch import nn
from torchvision import datasets, transforms

FASHION_MEAN, FASHION_STD = (0.2860,), (0.3530,)  # computed over the training set
normalize = transforms.Normalize(FASHION_MEAN, FASHION_STD)
training = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize])
evaluation = transforms.Compose([transforms.ToTensor(), normalize])

train_set = datasets.FashionMNIST("data", train=True, download=True, transform=training)
test_set = datasets.FashionMNIST("data", train=False, download=True, transform=evaluation)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True)

model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
