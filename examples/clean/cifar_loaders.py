"""CIFAR-10 loaders done right: a held-out validation split with its own deterministic pipeline,
a shuffled training loader and the real test split."""

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

normalize = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
augment = transforms.Compose(
    [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]
)
plain = transforms.Compose([transforms.ToTensor(), normalize])

# Split the indices, and build each part from its own dataset object: only training data is augmented.
indices = torch.randperm(50000, generator=torch.Generator().manual_seed(0)).tolist()
train_set = Subset(datasets.CIFAR10("data", train=True, download=True, transform=augment), indices[:45000])
val_set = Subset(datasets.CIFAR10("data", train=True, download=True, transform=plain), indices[45000:])
train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)
test_loader = DataLoader(datasets.CIFAR10("data", train=False, download=True, transform=plain), batch_size=256)

model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
criterion = nn.CrossEntropyLoss()


def evaluate(loader: DataLoader) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


for epoch in range(30):
    model.train()
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    print(epoch, evaluate(val_loader))
print("test", evaluate(test_loader))
