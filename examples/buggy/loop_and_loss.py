"""A small image classifier with the training-loop classics (trainlint: TL601, TL604, TL608, TL611, TL613).

1. The classifier ends in nn.Softmax, and its output goes to CrossEntropyLoss: a double softmax (TL604).
2. Gradients are never cleared in the training loop (TL601).
3. The running loss keeps every iteration's graph alive (TL611).
4. Gradients are clipped after the optimizer step, where it has no effect (TL613).
5. The validation runs in training mode: dropout stays on (TL608).
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, num_classes), nn.Softmax(dim=1))

    def forward(self, x):
        return self.head(self.features(x))


model = Classifier()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(20):
    running_loss = 0.0
    for images, labels in train_loader:
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        running_loss += loss

    correct = 0
    with torch.no_grad():
        for images, labels in val_loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    print(f"epoch {epoch}: loss {running_loss / len(train_loader):.3f}, accuracy {correct / len(val_set):.3f}")
