"""bitsandbytes.optim.lars on bnb8: LARS, LARS8bit, LARS32bit (states in the library) and PytorchLARS
(plain torch, fp32 momentum buffers).

With bitsandbytes' default momentum=0 the library classes raise at construction with bitsandbytes'
own message ("LARS without momentum is not supported!"): bitsandbytes raises the same, and a LARS
without a buffer would be a second state layout in the library for a configuration bitsandbytes
itself refuses. PytorchLARS does support momentum=0 (the update is the plain SGD direction g + wd*p,
scaled by the trust ratio); bitsandbytes' PytorchLARS fails there with an UnboundLocalError."""

import torch

from ._classes import define
from .optimizer import flag, real

__all__ = ["LARS", "LARS8bit", "LARS32bit", "PytorchLARS"]

LARS, LARS8bit, LARS32bit = define(__name__, "LARS", "LARS8bit", "LARS32bit")


class PytorchLARS(torch.optim.Optimizer):
    """LARS in plain torch (bitsandbytes' reference class, same signature and defaults): SGD with
    momentum, dampening and nesterov, whose step is scaled by min(1, max_unorm*|p|/|update|) when
    max_unorm > 0 (ALGORITHMS.md §7.2: the ratio only shrinks the step). State: momentum_buffer."""

    def __init__(self, params, lr=0.01, momentum=0, dampening=0, weight_decay=0, nesterov=False, max_unorm=0.02):
        lr, momentum, dampening = real("lr", lr), real("momentum", momentum), real("dampening", dampening)
        weight_decay, max_unorm, nesterov = real("weight_decay", weight_decay), real("max_unorm", max_unorm), \
            flag("nesterov", nesterov)
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay),
                            ("max_unorm", max_unorm)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening = 0 (momentum = {momentum}, "
                             f"dampening = {dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        max_unorm=max_unorm)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            momentum, dampening = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                direction = p.grad
                if group["weight_decay"] != 0:
                    direction = direction.add(p, alpha=group["weight_decay"])
                if momentum != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = direction.detach().clone()
                    else:
                        state["momentum_buffer"].mul_(momentum).add_(direction, alpha=1 - dampening)
                    buf = state["momentum_buffer"]
                    direction = direction.add(buf, alpha=momentum) if group["nesterov"] else buf
                scale = 1.0
                if group["max_unorm"] > 0.0:
                    p_norm, u_norm = float(torch.norm(p.float())), float(torch.norm(direction.float()))
                    if u_norm > group["max_unorm"] * p_norm:
                        scale = group["max_unorm"] * p_norm / u_norm
                p.add_(direction, alpha=-group["lr"] * scale)
        return loss
