"""CIFAR-10 loaders with three slips a reviewer would catch (trainlint: TL404, TL403, TL406)."""

import torch
from torch import nn
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

normalize = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
augment = transforms.Compose(
    [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]
)
plain = transforms.Compose([transforms.ToTensor(), normalize])

# The validation split keeps the training set's random crops and flips (TL403).
full = datasets.CIFAR10("data", train=True, download=True, transform=augment)
train_set, val_set = random_split(full, [45000, 5000])
# No shuffle=True: every epoch sees the same batches in the same order (TL404).
train_loader = DataLoader(train_set, batch_size=128)
val_loader = DataLoader(val_set, batch_size=256)
# The test set without train=False is the training set again (TL406).
test_set = datasets.CIFAR10("data", download=True, transform=plain)
test_loader = DataLoader(test_set, batch_size=256)

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
