"""bnb8 as a drop-in for bitsandbytes in a torch training loop (8-bit AdamW states)."""
import torch
import bnb8.optim

model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1))
optimizer = bnb8.optim.AdamW8bit(model.parameters(), lr=1e-3)  # was: bitsandbytes.optim.AdamW8bit
x, y = torch.randn(256, 64), torch.randn(256, 1)
for step in range(100):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
torch.save(optimizer.state_dict(), "optimizer.pt")  # bitsandbytes' layout; load_state_dict() resumes
print(f"loss {loss.item():.4f}, optimizer state {optimizer.state_bytes()} bytes")
