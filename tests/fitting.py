"""A few AdamW steps on a small model, shared by the tests that need a briefly trained one."""


def fit(parameters, loss_of_step, steps: int, lr: float = 3e-3) -> None:
    """`steps` AdamW steps on `parameters` minimising `loss_of_step()` (a scalar tensor)."""
    import torch

    optimizer = torch.optim.AdamW(parameters, lr=lr)
    for _ in range(steps):
        loss = loss_of_step()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
