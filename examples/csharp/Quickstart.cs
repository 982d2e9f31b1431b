using Bnb8;

static class Quickstart {
    static void Main() {
        float[] weights = new float[1 << 20], grads = new float[1 << 20];      // your model's parameter and gradient
        var config = new OptimizerConfig(Bnb.ALGO_ADAMW) { OptimBits = 8 };  // lr 1e-3, wd 1e-2, 8-bit states
        using (var optimizer = new Optimizer(config)) {
            optimizer.AddParam(0, weights, grads);   // no copy: pinned, and updated in place, until Dispose
            for (int step = 0; step < 10; ++step) {  // your forward and backward passes fill grads here
                optimizer.Step();
            }
            optimizer.Save("optimizer.safetensors");
        }
    }
}
