"""A CIFAR-10 ResNet fed raw [0, 1] pixels: the pipeline converts to tensors and stops (trainlint: TL401,
whose fix inserts CIFAR-10's statistics)."""

import torch
import torchvision
from torchvision import transforms

train_transform = transforms.Compose(
    [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()]
)
train_set = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=train_transform)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True, num_workers=2)

model = torchvision.models.resnet18(num_classes=10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
criterion = torch.nn.CrossEntropyLoss()

for epoch in range(30):
    for images, labels in train_loader:
        optimizer.zero_grad()
        criterion(model(images), labels).backward()
        optimizer.step()
