import java.nio.FloatBuffer;
import org.bnb8.*;

public class Quickstart {
    public static void main(String[] args) {
        FloatBuffer weights = Bnb8.directFloats(1 << 20), grads = Bnb8.directFloats(1 << 20); // your model's buffers
        OptimizerConfig config = new OptimizerConfig(Bnb8.ALGO_ADAMW);                        // lr 1e-3, wd 1e-2
        config.setOptimBits(8);                                                               // 8-bit states
        try (Optimizer optimizer = new Optimizer(config)) {
            optimizer.addParam(0, weights, grads);   // no copy: the optimizer updates `weights` in place
            for (int step = 0; step < 10; ++step) {  // your forward and backward passes fill `grads` here
                optimizer.step();
            }
            optimizer.save("optimizer.safetensors");
        }
    }
}
