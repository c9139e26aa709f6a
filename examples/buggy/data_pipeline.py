"""A FashionMNIST classifier whose data pipelines have two classic slips (trainlint: TL405, TL402)."""

import torch
from torch import nn
from torchvision import datasets, transforms

# Copied from an ImageNet script: three statistics for one-channel images (TL405, the first batch raises).
imagenet_stats = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
evaluation = transforms.Compose([transforms.ToTensor(), imagenet_stats])

training = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor(), transforms.Normalize((0.286,), (0.353,))])

# Normalize before ToTensor: it is given a PIL image (TL402).
augmented = transforms.Compose([transforms.Normalize((0.5,), (0.5,)), transforms.ToTensor()])

train_set = datasets.FashionMNIST("data", train=True, download=True, transform=training)
test_set = datasets.FashionMNIST("data", train=False, download=True, transform=evaluation)
extra_set = datasets.FashionMNIST("data", train=True, download=True, transform=augmented)
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
