"""FusionEncoder: frames (pixels, per-patch geometry, pose) → the tokens that fill ``<|vis|>`` slots.

Written for ONNX export: plain tensor ops, no Python branching on tensor values, the frame count
only ever appears as a leading ``-1``; attention is a hand-written block over
``scaled_dot_product_attention`` rather than ``nn.TransformerEncoderLayer``, whose inference fast
path does not export.

Input scaling, done inside so every backend feeds raw values: world xyz and translations are
divided by 4 m (rooms span a few metres around the origin), patch extents by 2 m; valid fraction
and rotation entries are already in [-1, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ssr_runtime.model.config import SSRConfig

WORLD_SCALE_M = 4.0
EXTENT_SCALE_M = 2.0
# Periods of the position head's phase targets: the metre digit follows the long ones, the decimetre
# digit the 1 m period (x = 2.43 m is 0.43 of a turn there), finer detail the 0.5 m one.
POSITION_PERIODS_M = (16.0, 8.0, 4.0, 2.0, 1.0, 0.5)
POSITION_TARGETS = 3 + 3 * 2 * len(POSITION_PERIODS_M)  # xyz / WORLD_SCALE_M, then cos and sin per axis and period


class Mlp(nn.Sequential):
    def __init__(self, width_in: int, width_hidden: int, width_out: int) -> None:
        super().__init__(nn.Linear(width_in, width_hidden), nn.GELU(), nn.Linear(width_hidden, width_out))


class VitBlock(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = Mlp(width, 4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, tokens, width = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(frames, tokens, 3, self.heads, width // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(frames, tokens, width)
        x = x + self.proj(attended)
        return x + self.mlp(self.norm2(x))


class FusionEncoder(nn.Module):
    """pixels [N,3,64,64] in [0,1], geometry [N,8,8,7], pose [N,12] → [N, tokens_per_frame, hidden_size].

    Sizes come from the config (image_size, grid, pool, ...); N is the number of frames. Frame tokens
    are the pooled patches in row-major order, preceded by the pose token in mode 'add+interleave'.
    In mode '2d' geometry and pose are accepted and ignored, so every mode has the same signature.
    """

    def __init__(self, config: SSRConfig) -> None:
        super().__init__()
        self.config = config
        width = config.vision_dim
        self.patch_embed = nn.Conv2d(3, width, kernel_size=config.patch, stride=config.patch)
        self.positions = nn.Parameter(torch.randn(1, config.grid * config.grid, width) * 0.02)
        self.blocks = nn.ModuleList(VitBlock(width, config.vision_heads) for _ in range(config.vision_layers))
        self.norm = nn.LayerNorm(width)
        self.geometry_mlp = Mlp(config.geometry_features, width, width) if config.fusion != "2d" else None
        self.projector = Mlp(width, config.hidden_size, config.hidden_size)
        self.token_norm = (nn.BatchNorm1d(config.hidden_size, affine=False)
                           if config.token_norm == "batch" else None)
        self.pose_mlp = (Mlp(config.pose_features, config.hidden_size, config.hidden_size)
                         if config.fusion == "add+interleave" else None)
        self.patch_head = nn.Linear(width, config.patch_classes) if config.patch_classes else None
        self.position_head = (nn.Linear(config.hidden_size, POSITION_TARGETS)
                              if config.position_loss_weight > 0 else None)
        self.register_buffer("geometry_scale", _geometry_scale(), persistent=False)
        self.register_buffer("pose_scale", _pose_scale(), persistent=False)

    def forward(self, pixels: torch.Tensor, geometry: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        return self.tokens(self.patch_features(pixels, geometry), pose)

    def patch_features(self, pixels: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """[N, grid², vision_dim]: the ViT's patch features, plus the geometry MLP's unless mode '2d'."""
        c = self.config
        dtype = self.patch_embed.weight.dtype
        x = self.patch_embed(pixels.to(dtype)).flatten(2).transpose(1, 2) + self.positions
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if self.geometry_mlp is not None:
            features = geometry.to(dtype).reshape(-1, c.grid * c.grid, c.geometry_features) * self.geometry_scale
            x = x + self.geometry_mlp(features)
        return x

    def tokens(self, patches: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Patch features → [N, tokens_per_frame, hidden_size]: pooled, projected, pose token first."""
        tokens = self.projector(self._pool(patches))
        if self.token_norm is not None:
            tokens = self.token_norm(tokens.reshape(-1, tokens.shape[-1])).reshape(tokens.shape)
        if self.pose_mlp is None:
            return tokens
        pose_token = self.pose_mlp(pose.to(tokens.dtype) * self.pose_scale).unsqueeze(1)
        return torch.cat([pose_token, tokens], dim=1)

    @property
    def has_grounding_heads(self) -> bool:
        """Both training heads that `grounding` runs: the patch head and the position head."""
        return self.patch_head is not None and self.position_head is not None

    def grounding(self, pixels: torch.Tensor, geometry: torch.Tensor,
                  pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Where the encoder sees each label, per visual token (cell): the patch head's label
        probabilities averaged over the cell's patches [N, cells, patch_classes] (class 0: no object)
        and the position head's world xyz in metres [N, cells, 3]. The runtime grounds the language
        model's boxes with them (runtime.grounding); in mode '2d' the xyz come from appearance alone."""
        if not self.has_grounding_heads:
            raise ValueError("grounding: needs the patch head and the position head "
                             "(SSRConfig.patch_classes > 0 and position_loss_weight > 0)")
        patches = self.patch_features(pixels, geometry)
        labels = self._pool(self.patch_head(patches).softmax(dim=-1))
        tokens = self.tokens(patches, pose)
        visual = tokens[:, tokens.shape[1] - self.config.visual_tokens_per_frame:]
        return labels, self.position_head(visual)[..., :3] * WORLD_SCALE_M

    def patch_loss(self, patches: torch.Tensor, patch_labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the auxiliary head on each patch's label class (patch_labels [N, grid, grid])."""
        if self.patch_head is None:
            raise ValueError("patch_labels: this model has no patch head (SSRConfig.patch_classes = 0)")
        logits = self.patch_head(patches)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), patch_labels.reshape(-1).long())

    def position_loss(self, tokens: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the position head on each visual token's `position_targets` (tokens
        [N, tokens_per_frame, hidden_size] from `tokens`, geometry [N, grid, grid, 7]); cells with no
        valid depth are left out."""
        if self.position_head is None:
            raise ValueError("position loss: this model has no position head (SSRConfig.position_loss_weight = 0)")
        visual = tokens[:, tokens.shape[1] - self.config.visual_tokens_per_frame:]
        targets, valid = self.position_targets(geometry)
        error = (self.position_head(visual) - targets).pow(2).mean(dim=-1)
        return (error * valid).sum() / valid.sum().clamp(min=1.0)

    def position_targets(self, geometry: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per visual token: [N, cells, POSITION_TARGETS] (its cell's valid-weighted mean world xyz as
        xyz / WORLD_SCALE_M, then cos and sin of 2π·xyz/period) and [N, cells] 1.0 where the cell has
        valid depth."""
        c = self.config
        geometry = geometry.to(self.position_head.weight.dtype).reshape(-1, c.grid * c.grid, c.geometry_features)
        weight = geometry[..., 3:4]
        points = torch.where(weight > 0, geometry[..., :3], torch.zeros_like(geometry[..., :3]))
        cell_weight = self._pool(weight)
        xyz = self._pool(points * weight) / cell_weight.clamp(min=1e-6)
        valid = (cell_weight[..., 0] > 0).to(xyz.dtype)
        periods = torch.tensor(POSITION_PERIODS_M, dtype=xyz.dtype, device=xyz.device)
        phases = (2 * math.pi) * xyz.unsqueeze(-1) / periods  # [N, cells, 3, periods]
        waves = torch.cat([phases.cos(), phases.sin()], dim=-1).flatten(-2)
        return torch.cat([xyz / WORLD_SCALE_M, waves], dim=-1), valid

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        """pool×pool average over the patch grid: [N, grid², D] → [N, (grid/pool)², D], row-major."""
        c = self.config
        side, width = c.pooled_grid, x.shape[-1]
        x = x.reshape(-1, side, c.pool, side, c.pool, width).mean(dim=(2, 4))
        return x.reshape(-1, side * side, width)


def _geometry_scale() -> torch.Tensor:
    world, extent = 1.0 / WORLD_SCALE_M, 1.0 / EXTENT_SCALE_M
    return torch.tensor([world, world, world, 1.0, extent, extent, extent])


def _pose_scale() -> torch.Tensor:
    """Row-major [R | t] rows: entries 3, 7, 11 are the translation in metres."""
    scale = torch.ones(12)
    scale[[3, 7, 11]] = 1.0 / WORLD_SCALE_M
    return scale
