"""bitsandbytes.nn's embeddings for the 8-bit optimizers: torch.nn.Embedding subclasses whose weight
keeps 32-bit optimizer states whatever the optimizer's optim_bits (registered with
GlobalOptimManager.register_module_override(self, "weight", {"optim_bits": 32}) at construction, as
bitsandbytes does), since rare tokens' rows get sparse, badly scaled updates that 8-bit states blur.

- Embedding: torch's embedding with Xavier-uniform initialisation.
- StableEmbedding: the same, followed by a LayerNorm over the embedding dimension, computed in
  torch's default dtype and cast back to the weight's dtype (bitsandbytes' stable embedding).

Both accept torch.nn.Embedding's arguments (padding_idx rows start at zero) plus device and dtype."""

import torch

from .optim.optimizer import GlobalOptimManager

__all__ = ["Embedding", "StableEmbedding"]


class _Embedding32bitStates(torch.nn.Embedding):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, device=device, dtype=dtype)
        GlobalOptimManager.get_instance().register_module_override(self, "weight", {"optim_bits": 32})

    def reset_parameters(self):
        torch.nn.init.xavier_uniform_(self.weight)
        if self.padding_idx is not None:
            with torch.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def _lookup(self, input):
        return torch.nn.functional.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                                             self.scale_grad_by_freq, self.sparse)


class Embedding(_Embedding32bitStates):
    """bitsandbytes.nn.Embedding: torch.nn.Embedding with Xavier-uniform initialisation and 32-bit
    optimizer states for its weight."""

    def forward(self, input):
        return self._lookup(input)


class StableEmbedding(_Embedding32bitStates):
    """bitsandbytes.nn.StableEmbedding: Embedding followed by LayerNorm(embedding_dim) (in torch's
    default dtype, the output cast back to the weight's dtype); 32-bit optimizer states for its weight
    (the LayerNorm's parameters follow the optimizer's settings)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, device=device, dtype=dtype)
        self.norm = torch.nn.LayerNorm(embedding_dim, device=device)

    def forward(self, input):
        out = self._lookup(input).to(torch.get_default_dtype())
        return self.norm(out).to(self.weight.dtype)
