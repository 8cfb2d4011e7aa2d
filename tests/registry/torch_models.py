"""A PyTorch module importable by name (state dicts load into their class). Imported only
by tests that skip without torch."""

from __future__ import annotations

import torch


class TinyNet(torch.nn.Module):
    def __init__(self, hidden: int = 2) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.layer(x))


class Lambda(torch.nn.Module):
    """TorchScript cannot compile a lambda attribute: saved by tracing the example."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = lambda t: t * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale(x) + 1
