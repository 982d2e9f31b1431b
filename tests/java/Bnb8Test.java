import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.bnb8.Bnb8;
import org.bnb8.Bnb8Exception;
import org.bnb8.HparamBounds;
import org.bnb8.Optimizer;
import org.bnb8.OptimizerConfig;
import org.bnb8.ParamInfo;
import org.bnb8.StateView;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;

/**
 * The Java binding (org.bnb8) end to end: version, defaults, registration of direct buffers, Adam's
 * numbers against an independent float64 computation, 8-bit states against the quantization maps,
 * checkpoints (file and buffer) continuing bit for bit, errors as Bnb8Exception carrying the library's
 * message, and deterministic release.
 */
public class Bnb8Test {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    /** Prints each case as it ends, so the ctest log names what ran. */
    @Rule
    public TestWatcher printer = new TestWatcher() {
        @Override
        protected void succeeded(Description d) {
            System.out.println("ok   " + d.getMethodName());
        }

        @Override
        protected void failed(Throwable e, Description d) {
            System.out.println("FAIL " + d.getMethodName() + ": " + e);
        }
    };

    // ---- data and helpers ------------------------------------------------------------------------

    /** Elements of the test parameter: 3 full blocks of 256 and a tail, so block edges are crossed. */
    static final int N = 3 * 256 + 37;

    static float[] initialParams(int n) {
        Random random = new Random(7);
        float[] p = new float[n];
        for (int i = 0; i < n; ++i) {
            p[i] = (float) (0.1 * random.nextGaussian());
        }
        return p;
    }

    /**
     * The gradient of step t: random signs, magnitudes in [0.005, 0.01]. Bounded away from zero so
     * that |m| / sqrt(v) stays within a known range (see adam8BitStatesFollowTheMaps).
     */
    static float[] gradient(int n, int t) {
        Random random = new Random(1000 + t);
        float[] g = new float[n];
        for (int i = 0; i < n; ++i) {
            g[i] = (random.nextBoolean() ? 1 : -1) * (0.005f + 0.005f * random.nextFloat());
        }
        return g;
    }

    static OptimizerConfig config(int algorithm, int optimBits) {
        OptimizerConfig config = new OptimizerConfig(algorithm);
        config.setOptimBits(optimBits);
        config.setMin8bitSize(0);
        return config;
    }

    static FloatBuffer floats(float[] values) {
        FloatBuffer buffer = Bnb8.directFloats(values.length);
        buffer.put(0, values);
        return buffer;
    }

    static float[] array(FloatBuffer buffer) {
        float[] values = new float[buffer.capacity()];
        buffer.get(0, values);
        return values;
    }

    /** One fp32 parameter registered with its gradient, stepped with gradient(n, t). */
    static final class Model implements AutoCloseable {
        final Optimizer optimizer;
        final FloatBuffer param;
        final FloatBuffer grad;

        Model(OptimizerConfig config, float[] initial) {
            optimizer = new Optimizer(config);
            param = floats(initial);
            grad = Bnb8.directFloats(initial.length);
            assertEquals(0, optimizer.addParam(0, param, grad));
        }

        void step(int t) {
            grad.put(0, gradient(grad.capacity(), t));
            optimizer.step();
        }

        float[] params() {
            return array(param);
        }

        float[] state(int state) {
            FloatBuffer values = Bnb8.directFloats(param.capacity());
            optimizer.copyState(0, state, values);
            return array(values);
        }

        @Override
        public void close() {
            optimizer.close();
        }
    }

    static void assertBitwiseEqual(String what, float[] expected, float[] actual) {
        assertEquals(what + ": length", expected.length, actual.length);
        for (int i = 0; i < expected.length; ++i) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    static Bnb8Exception assertInvalid(Runnable call, String... fragments) {
        Bnb8Exception e = assertThrows(Bnb8Exception.class, call::run);
        assertEquals(e.getMessage(), Bnb8.ERR_INVALID_ARGUMENT, e.getStatus());
        for (String fragment : fragments) {
            assertTrue("'" + e.getMessage() + "' should name " + fragment, e.getMessage().contains(fragment));
        }
        return e;
    }

    // ---- version and configuration ---------------------------------------------------------------

    @Test
    public void versionOfTheLibraryMatchesTheHeader() {
        assertEquals(Bnb8.VERSION_NUMBER, Bnb8.versionNumber());
        assertEquals(Bnb8.VERSION_MAJOR + "." + Bnb8.VERSION_MINOR + "." + Bnb8.VERSION_PATCH, Bnb8.versionString());
        assertEquals(Bnb8.STATE_FORMAT_VERSION, Bnb8.stateFormatVersion());
        assertNotEquals(0, Bnb8.features() & Bnb8.FEATURE_CPU);
        assertTrue(Bnb8.statusString(Bnb8.ERR_IO).length() > 0);
    }

    @Test
    public void createWithTheAlgorithmsDefaults() {
        OptimizerConfig config = new OptimizerConfig(Bnb8.ALGO_ADAMW);
        assertEquals(Bnb8.ALGO_ADAMW, config.getAlgorithm());
        assertEquals(32, config.getOptimBits());
        assertEquals(1e-3, config.getLr(), 0);
        assertEquals(0.9, config.getBeta1(), 0);
        assertEquals(0.999, config.getBeta2(), 0);
        assertEquals(1e-8, config.getEps(), 0);
        assertEquals(1e-2, config.getWeightDecay(), 0);
        assertEquals(4096, config.getMin8bitSize());
        try (Optimizer optimizer = new Optimizer(config)) {
            assertEquals(1, optimizer.groupCount());
            assertEquals(0, optimizer.paramCount());
            assertEquals(1e-3, optimizer.getHparam(0, Bnb8.HPARAM_LR), 0);
            OptimizerConfig effective = optimizer.getConfig();
            assertEquals(config.getWeightDecay(), effective.getWeightDecay(), 0);
            assertEquals(config.getStructSize(), effective.getStructSize());
        }
        HparamBounds beta1 = Bnb8.hparamBounds(Bnb8.ALGO_ADAMW, Bnb8.HPARAM_BETA1);
        assertEquals(0, beta1.getMin(), 0);
        assertEquals(1, beta1.getMax(), 0);
        assertTrue(beta1.getMinInclusive());
        assertTrue(!beta1.getMaxInclusive());
    }

    // ---- registration ----------------------------------------------------------------------------

    @Test
    public void registersDirectBuffersFromPositionToLimit() {
        try (Optimizer optimizer = new Optimizer(config(Bnb8.ALGO_ADAM, 32))) {
            FloatBuffer param = floats(initialParams(N));
            FloatBuffer grad = floats(gradient(N, 1));
            param.position(5).limit(N - 3);  // registers elements [5, N - 3) only
            grad.position(5).limit(N - 3);
            assertEquals(0, optimizer.addParam(0, param, grad));
            long group = optimizer.addGroup();
            assertEquals(1, group);
            ShortBuffer half = Bnb8.directShorts(300);
            assertEquals(1, optimizer.addParam(group, half, null, Bnb8.DTYPE_BF16));
            assertEquals(2, optimizer.paramCount());

            ParamInfo info = optimizer.paramInfo(0);
            assertEquals(N - 8, info.getNumel());
            assertEquals(Bnb8.DTYPE_F32, info.getDtype());
            assertEquals(Bnb8.DEVICE_CPU, info.getDevice());
            assertEquals(0, info.getGroup());
            assertEquals(Bnb8.STATE_MODE_NONE, info.getStateMode());
            ParamInfo halfInfo = optimizer.paramInfo(1);
            assertEquals(300, halfInfo.getNumel());
            assertEquals(Bnb8.DTYPE_BF16, halfInfo.getDtype());
            assertEquals(1, halfInfo.getGroup());

            optimizer.step();  // the bf16 parameter has no gradient: skipped
            float[] before = initialParams(N);
            float[] after = array(param.clear());
            for (int i = 0; i < N; ++i) {
                boolean registered = i >= 5 && i < N - 3;
                assertEquals("element " + i + " updated in place iff registered", registered, before[i] != after[i]);
            }
            assertEquals(1, optimizer.paramInfo(0).getStep());
            assertEquals(0, optimizer.paramInfo(1).getStep());
            assertEquals(1, optimizer.lastStepInfo().getParamsStepped());
        }
    }

    @Test
    public void sizesAndCountsAreLong() throws NoSuchMethodException {
        assertEquals(long.class, ParamInfo.class.getMethod("getNumel").getReturnType());
        assertEquals(long.class, ParamInfo.class.getMethod("getStep").getReturnType());
        assertEquals(long.class, ParamInfo.class.getMethod("getStateBytes").getReturnType());
        assertEquals(long.class, StateView.class.getMethod("getNumel").getReturnType());
        assertEquals(long.class, OptimizerConfig.class.getMethod("getMin8bitSize").getReturnType());
        assertEquals(long.class, Optimizer.class.getMethod("serializedSize").getReturnType());
        assertEquals(long.class, Optimizer.class.getMethod("stateBytes").getReturnType());
        assertEquals(long.class, Optimizer.class.getMethod("addParam", long.class, FloatBuffer.class, FloatBuffer.class)
                                     .getReturnType());
        assertEquals(long.class, Bnb8.class.getMethod("features").getReturnType());
    }

    // ---- numbers ---------------------------------------------------------------------------------

    /**
     * 32-bit AdamW (defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, decoupled weight decay 1e-2) for 5
     * steps against torch's AdamW computed here in float64.
     *
     * Tolerance: the library evaluates each step in fp32 (ALGORITHMS.md §1). Per step it rounds p twice
     * (the decay product and the update: at most ulp(p)/2 each), decays with dec = fl32(1 - lr * wd),
     * itself off by at most 2^-25 relative (under ulp(p)/2 more), and computes the update, at most 2 * lr
     * here (|m^| / sqrt(v^) <= max|g| / min|g| = 2), with about 10 roundings of relative size 2^-24
     * (operations and per-step scalars), i.e. within 2^-19 * lr. After T steps |p - p64| <= T * (1.5 *
     * ulp(p) + 2^-19 * lr); allowed: 2 * T * (ulp(p) + 2^-19 * lr) (the largest error seen is 0.47 of
     * that). m and v take 3 roundings
     * per step of terms no larger than max|g| (resp. max|g|^2), plus the fp32 rounding of b1 and 1 - b1
     * (§5.2): under 2^-22 * max|g| per step; allowed: T * 2^-21 * max|g| (and likewise for v).
     * Omitting the decay would change p by lr * wd * |p|, about 1e-6 per step, and coupling it (g + wd *
     * p) would change the update direction by far more: both far above these bounds.
     */
    @Test
    public void adamw32BitMatchesFloat64Reference() {
        final int steps = 5;
        final double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-2, gmax = 0.01;
        float[] initial = initialParams(N);
        double[] p = new double[N], m = new double[N], v = new double[N];
        for (int i = 0; i < N; ++i) {
            p[i] = initial[i];
        }
        try (Model model = new Model(config(Bnb8.ALGO_ADAMW, 32), initial)) {
            for (int t = 1; t <= steps; ++t) {
                model.step(t);
                float[] g = gradient(N, t);
                for (int i = 0; i < N; ++i) {
                    p[i] *= 1 - lr * wd;
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    double mHat = m[i] / (1 - Math.pow(b1, t)), vHat = v[i] / (1 - Math.pow(b2, t));
                    p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
                }
                float[] actual = model.params(), m32 = model.state(Bnb8.STATE1), v32 = model.state(Bnb8.STATE2);
                for (int i = 0; i < N; ++i) {
                    double pTolerance = 2 * t * (Math.ulp((float) p[i]) + Math.scalb(lr, -19));
                    assertEquals("p[" + i + "] at step " + t, p[i], actual[i], pTolerance);
                    assertEquals("m[" + i + "] at step " + t, m[i], m32[i], t * Math.scalb(gmax, -21));
                    assertEquals("v[" + i + "] at step " + t, v[i], v32[i], t * Math.scalb(gmax * gmax, -21));
                }
            }
            ParamInfo info = model.optimizer.paramInfo(0);
            assertEquals(steps, info.getStep());
            assertEquals(Bnb8.STATE_MODE_32BIT, info.getStateMode());
            assertEquals(2L * 4 * N, info.getStateBytes());
        }
    }

    /** The lower and upper entry of `map` around x (clamped to the ends). */
    static int[] bracket(float[] map, float x) {
        int k = 0;
        while (k < 254 && map[k + 1] <= x) {
            ++k;
        }
        return new int[] {k, k + 1};
    }

    /**
     * After one 8-bit step every state element is one of the two map entries around its exact fp32
     * value, times its block's absmax (ALGORITHMS.md §4: the map's nearest entry, or its neighbour by
     * the sign fix, and never beyond the ends). m = fl32(fl32(1 - b1) * g) and v = fl32(fl32(1 - b2) *
     * fl32(g * g)) are exact in fp32 at step 1 (the old states are 0), so the test computes them here,
     * and each block's absmax is their largest magnitude.
     */
    @Test
    public void adam8BitStatesFollowTheMaps() {
        try (Model model = new Model(config(Bnb8.ALGO_ADAM, 8), initialParams(N))) {
            model.step(1);
            ParamInfo info = model.optimizer.paramInfo(0);
            assertEquals(Bnb8.STATE_MODE_8BIT_BLOCKWISE, info.getStateMode());
            long blocks = (N + 255) / 256;
            assertEquals("codes and one fp32 absmax per block, per state", 2 * (N + 4 * blocks), info.getStateBytes());

            float[] g = gradient(N, 1);
            float nb1 = (float) (1 - 0.9), nb2 = (float) (1 - 0.999);
            float[] m = new float[N], v = new float[N];
            for (int i = 0; i < N; ++i) {
                m[i] = nb1 * g[i];
                v[i] = nb2 * (g[i] * g[i]);
            }
            checkAgainstMap("m", m, model.state(Bnb8.STATE1), Bnb8.QMAP_SIGNED);
            checkAgainstMap("v", v, model.state(Bnb8.STATE2), Bnb8.QMAP_UNSIGNED);
        }
    }

    static void checkAgainstMap(String what, float[] exact, float[] dequantized, int kind) {
        FloatBuffer mapBuffer = Bnb8.directFloats(Bnb8.QMAP_SIZE);
        Bnb8.qmapCopy(kind, mapBuffer);
        float[] map = array(mapBuffer);
        assertEquals(1.0f, map[255], 0);
        for (int block = 0; block * 256 < exact.length; ++block) {
            int end = Math.min(exact.length, (block + 1) * 256);
            float absmax = 0;
            for (int i = block * 256; i < end; ++i) {
                absmax = Math.max(absmax, Math.abs(exact[i]));
            }
            for (int i = block * 256; i < end; ++i) {
                int[] k = bracket(map, exact[i] * (1.0f / absmax));
                float low = map[k[0]] * absmax, high = map[k[1]] * absmax;
                assertTrue(what + "[" + i + "] = " + exact[i] + " stored as " + dequantized[i] + ", not " + low + " or " + high,
                           dequantized[i] == low || dequantized[i] == high);
            }
        }
    }

    /**
     * 8-bit and 32-bit Adam over 5 steps: parameters within 0.5 * lr of each other. Derivation: with
     * |g| in [0.005, 0.01], one requantization moves m by at most half the widest signed-map gap (0.9/64
     * near 1) times its absmax, i.e. 0.0071 * max|m|, and v by at most 0.0035 / 0.25 = 1.4 % (its
     * elements are at least a quarter of their block's absmax, where the unsigned map's gaps are
     * 0.9/128). An error in m carries into the following steps (decaying by b1), so after step s the
     * state error is at most s such terms and the update error at most s * 0.03 * lr; summed over 5
     * steps, 15 * 0.03 * lr = 0.45 * lr. The states must also differ (they are 8-bit), so the
     * comparison is not vacuous.
     */
    @Test
    public void adam8BitTracks32Bit() {
        final int steps = 5;
        final double lr = 1e-3;
        try (Model eight = new Model(config(Bnb8.ALGO_ADAM, 8), initialParams(N));
             Model full = new Model(config(Bnb8.ALGO_ADAM, 32), initialParams(N))) {
            for (int t = 1; t <= steps; ++t) {
                eight.step(t);
                full.step(t);
            }
            float[] p8 = eight.params(), p32 = full.params(), initial = initialParams(N);
            int differing = 0;
            double maxDiff = 0, meanMove = 0;
            for (int i = 0; i < N; ++i) {
                assertEquals("p[" + i + "]", p32[i], p8[i], 0.5 * lr);
                differing += p8[i] != p32[i] ? 1 : 0;
                maxDiff = Math.max(maxDiff, Math.abs(p8[i] - p32[i]));
                meanMove += Math.abs(p32[i] - initial[i]) / N;
            }
            assertTrue("8-bit states change the trajectory", differing > N / 2);
            assertTrue("the parameters moved well beyond the bound (mean " + meanMove / lr + " lr)", meanMove > lr);
        }
    }

    /**
     * bf16 parameters through ShortBuffer: one Adam step is, bit for bit, the fp32 rule of ALGORITHMS.md
     * §6.1 (per-step scalars rounded from double once, §5.2) followed by one round to nearest even to
     * bf16 (§1.4), computed here in Java's IEEE float arithmetic.
     */
    @Test
    public void bf16StepIsTheFp32RuleRoundedOnce() {
        final int n = 300;
        float[] p = initialParams(n), g = gradient(n, 1);
        ShortBuffer param = Bnb8.directShorts(n), grad = Bnb8.directShorts(n);
        for (int i = 0; i < n; ++i) {
            param.put(i, toBf16(p[i]));
            grad.put(i, toBf16(g[i]));
        }
        try (Optimizer optimizer = new Optimizer(config(Bnb8.ALGO_ADAM, 32))) {
            optimizer.addParam(0, param, grad, Bnb8.DTYPE_BF16);
            optimizer.step();
        }
        final double lr = 1e-3, b1 = 0.9, b2 = 0.999;
        float nb1 = (float) (1 - b1), nb2 = (float) (1 - b2), eps = (float) 1e-8;
        float ss = (float) (lr / (1 - b1)), ic2 = (float) (1 / Math.sqrt(1 - b2));
        for (int i = 0; i < n; ++i) {
            float p0 = fromBf16(toBf16(p[i])), g0 = fromBf16(toBf16(g[i]));
            float m = 0.9f * 0.0f + nb1 * g0;
            float v = 0.999f * 0.0f + nb2 * (g0 * g0);
            float updated = p0 - ss * (m / ((float) Math.sqrt(v) * ic2 + eps));
            assertEquals("bf16 p[" + i + "]", toBf16(updated), param.get(i));
        }
    }

    /** Round to nearest even from fp32 to bf16 (finite inputs). */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Percentile clipping's history after the first step: every slot holds the squared gradient norm
     * (ALGORITHMS.md §7.3). The library sums the fp32 products g*g pairwise in fp32 within each block of
     * 256 (8 additions deep: relative error under 2^-21, all terms being positive), then in double, and
     * rounds the total to fp32 once (2^-24): allowed 2^-20 relative.
     */
    @Test
    public void clipHistoryHoldsTheSquaredGradientNorm() {
        OptimizerConfig config = config(Bnb8.ALGO_ADAM, 32);
        config.setPercentileClipping(5);
        try (Model model = new Model(config, initialParams(N))) {
            FloatBuffer history = Bnb8.directFloats(100);
            Bnb8Exception none = assertThrows(Bnb8Exception.class, () -> model.optimizer.copyClipHistory(0, history));
            assertEquals(none.getMessage(), Bnb8.ERR_INVALID_STATE, none.getStatus());
            model.step(1);
            model.optimizer.copyClipHistory(0, history);
            double norm = 0;
            for (float g : gradient(N, 1)) {
                norm += g * g;
            }
            for (int k = 0; k < 100; ++k) {
                assertEquals("h[" + k + "]", norm, history.get(k), Math.scalb(norm, -20));
            }
            assertInvalid(() -> model.optimizer.copyClipHistory(0, Bnb8.directFloats(99)), "99");
        }
    }

    @Test
    public void quantizeRoundTripWithinTheMapsGaps() {
        final int n = 1000;
        float[] values = gradient(n, 3);
        FloatBuffer map = Bnb8.directFloats(256), absmax = Bnb8.directFloats(4), back = Bnb8.directFloats(n);
        ByteBuffer codes = Bnb8.directBytes(n);
        Bnb8.qmapCopy(Bnb8.QMAP_SIGNED, map);
        Bnb8.quantizeBlockwise(map, floats(values), 256, codes, absmax);
        Bnb8.dequantizeBlockwise(map, codes, absmax, 256, back);
        checkAgainstMap("round trip", values, array(back), Bnb8.QMAP_SIGNED);
        assertInvalid(() -> Bnb8.quantizeBlockwise(map, floats(values), 256, codes, Bnb8.directFloats(3)), "absmax", "4");
    }

    // ---- checkpoints -----------------------------------------------------------------------------

    /**
     * 8-bit AdamW: 3 steps, save (file and buffer), 3 more steps; a fresh optimizer given the saved
     * parameters and the checkpoint continues bit for bit: same parameters, same states, same counter.
     */
    @Test
    public void checkpointContinuesBitForBit() throws Exception {
        Path file = folder.getRoot().toPath().resolve("adamw.safetensors");
        float[] savedParams;
        ByteBuffer checkpoint;
        float[] p, m, v;
        try (Model run = new Model(config(Bnb8.ALGO_ADAMW, 8), initialParams(N))) {
            for (int t = 1; t <= 3; ++t) {
                run.step(t);
            }
            run.optimizer.save(file.toString());
            savedParams = run.params();
            long size = run.optimizer.serializedSize();
            checkpoint = run.optimizer.saveToBuffer();
            assertEquals(size, checkpoint.remaining());
            byte[] fileBytes = Files.readAllBytes(file), bufferBytes = new byte[(int) size];
            checkpoint.get(0, bufferBytes);
            assertArrayEquals("save() and saveToBuffer() write the same bytes", fileBytes, bufferBytes);
            for (int t = 4; t <= 6; ++t) {
                run.step(t);
            }
            p = run.params();
            m = run.state(Bnb8.STATE1);
            v = run.state(Bnb8.STATE2);
        }
        for (boolean fromFile : new boolean[] {true, false}) {
            String how = fromFile ? "load" : "loadFromBuffer";
            try (Model resumed = new Model(config(Bnb8.ALGO_ADAMW, 8), savedParams)) {
                if (fromFile) {
                    resumed.optimizer.load(file.toString());
                } else {
                    resumed.optimizer.loadFromBuffer(checkpoint);
                }
                assertEquals(3, resumed.optimizer.paramInfo(0).getStep());
                for (int t = 4; t <= 6; ++t) {
                    resumed.step(t);
                }
                assertBitwiseEqual(how + ": params", p, resumed.params());
                assertBitwiseEqual(how + ": m", m, resumed.state(Bnb8.STATE1));
                assertBitwiseEqual(how + ": v", v, resumed.state(Bnb8.STATE2));
                assertEquals(6, resumed.optimizer.paramInfo(0).getStep());
            }
        }
    }

    /** A corrupt file is refused with ERR_BAD_FORMAT and changes nothing: the next step is as if it never happened. */
    @Test
    public void corruptCheckpointLeavesTheOptimizerUnchanged() throws Exception {
        Path file = folder.getRoot().toPath().resolve("corrupt.safetensors");
        try (Model run = new Model(config(Bnb8.ALGO_ADAMW, 8), initialParams(N));
             Model witness = new Model(config(Bnb8.ALGO_ADAMW, 8), initialParams(N))) {
            run.step(1);
            witness.step(1);
            run.optimizer.save(file.toString());
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length - 1] ^= 0x01;  // the last byte of the tensor data: its checksum no longer matches
            Files.write(file, bytes);
            run.step(2);
            witness.step(2);

            Bnb8Exception e = assertThrows(Bnb8Exception.class, () -> run.optimizer.load(file.toString()));
            assertEquals(e.getMessage(), Bnb8.ERR_BAD_FORMAT, e.getStatus());
            assertTrue(e.getMessage(), e.getMessage().length() > 0);
            String name = "missing-\u00e9\uD83D\uDE00";  // a path outside ASCII and outside the BMP, both ways
            Bnb8Exception missing = assertThrows(Bnb8Exception.class,
                                                 () -> run.optimizer.load(file.resolveSibling(name).toString()));
            assertEquals(missing.getMessage(), Bnb8.ERR_IO, missing.getStatus());
            assertTrue(missing.getMessage(), missing.getMessage().contains(name));

            assertEquals(2, run.optimizer.paramInfo(0).getStep());
            run.step(3);
            witness.step(3);
            assertBitwiseEqual("params", witness.params(), run.params());
            assertBitwiseEqual("m", witness.state(Bnb8.STATE1), run.state(Bnb8.STATE1));
        }
    }

    // ---- errors ----------------------------------------------------------------------------------

    @Test
    public void invalidHyperParametersRaiseTheLibrarysMessage() {
        OptimizerConfig config = new OptimizerConfig(Bnb8.ALGO_ADAMW);
        config.setLr(-1);
        assertInvalid(() -> new Optimizer(config), "lr", "-1");
        try (Optimizer optimizer = new Optimizer(new OptimizerConfig(Bnb8.ALGO_ADAMW))) {
            assertInvalid(() -> optimizer.setHparam(0, Bnb8.HPARAM_LR, -1), "lr", "-1");
            assertEquals("a failed call changes nothing", 1e-3, optimizer.getHparam(0, Bnb8.HPARAM_LR), 0);
            assertInvalid(() -> optimizer.setHparam(7, Bnb8.HPARAM_LR, 0.1), "7");
            Bnb8Exception e = assertThrows(Bnb8Exception.class, optimizer::step);
            assertEquals(e.getMessage(), Bnb8.ERR_INVALID_STATE, e.getStatus());
        }
        assertInvalid(() -> new OptimizerConfig(42), "42");
    }

    @Test
    public void badBuffersAreRefusedNamingTheArgument() {
        try (Optimizer optimizer = new Optimizer(new OptimizerConfig(Bnb8.ALGO_ADAM))) {
            FloatBuffer param = Bnb8.directFloats(10);
            assertInvalid(() -> optimizer.addParam(0, param, Bnb8.directFloats(9)), "grad", "9", "10");
            assertInvalid(() -> optimizer.addParam(0, FloatBuffer.wrap(new float[10]), null), "param", "direct");
            assertInvalid(() -> optimizer.addParam(0, ByteBuffer.allocateDirect(40).asFloatBuffer(), null),
                          "param", "BIG_ENDIAN");
            assertInvalid(() -> optimizer.addParam(0, param.asReadOnlyBuffer(), null), "param", "read-only");
            assertInvalid(() -> optimizer.addParam(0, Bnb8.directShorts(10), null, Bnb8.DTYPE_F32), "dtype");
            assertInvalid(() -> optimizer.addParam(0, (FloatBuffer) null, null), "param", "null");
            assertInvalid(() -> optimizer.addParam(3, param, null), "3");  // the library's check: no group 3
            assertEquals("failed registrations register nothing", 0, optimizer.paramCount());

            optimizer.addParam(0, param, Bnb8.directFloats(10));
            assertInvalid(() -> optimizer.bindParam(0, Bnb8.directFloats(11), null), "11", "10");
            assertInvalid(() -> optimizer.copyState(0, Bnb8.STATE1, Bnb8.directFloats(4)), "4");
            assertInvalid(() -> optimizer.saveToBuffer(Bnb8.directBytes(16)), "16");
            assertInvalid(() -> Bnb8.qmapCopy(Bnb8.QMAP_SIGNED, Bnb8.directFloats(255)), "dst", "255");
        }
    }

    // ---- release ---------------------------------------------------------------------------------

    /** Registers a parameter whose memory nothing but the optimizer references; returns a weak handle on it. */
    static WeakReference<ByteBuffer> registerUnreferenced(Optimizer optimizer) {
        ByteBuffer memory = Bnb8.directBytes(64 * Float.BYTES);
        optimizer.addParam(0, memory.asFloatBuffer(), Bnb8.directFloats(64));
        return new WeakReference<>(memory);
    }

    /**
     * Direct memory is freed once its buffer is unreachable, so the optimizer, which writes a registered
     * parameter at every step, keeps it reachable until close() (Note [java buffers]), and no longer.
     */
    @Test
    public void registeredBuffersStayReachableUntilClose() throws InterruptedException {
        Optimizer optimizer = new Optimizer(config(Bnb8.ALGO_ADAM, 32));
        WeakReference<ByteBuffer> memory = registerUnreferenced(optimizer);
        for (int i = 0; i < 3; ++i) {
            System.gc();
            optimizer.step();
        }
        assertNotNull("kept while registered", memory.get());
        optimizer.close();
        for (int i = 0; i < 100 && memory.get() != null; ++i) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull("released by close()", memory.get());
    }

    @Test
    public void closeIsDeterministicAndIdempotent() {
        OptimizerConfig sgd = new OptimizerConfig(Bnb8.ALGO_SGD);
        sgd.setLr(0.1);
        Optimizer optimizer = new Optimizer(sgd);
        optimizer.addParam(0, Bnb8.directFloats(4), Bnb8.directFloats(4));
        optimizer.close();
        optimizer.close();
        optimizer.delete();
        IllegalStateException e = assertThrows(IllegalStateException.class, optimizer::step);
        assertTrue(e.getMessage(), e.getMessage().contains("closed"));
        assertThrows(IllegalStateException.class, optimizer::paramCount);
        assertThrows(IllegalStateException.class, () -> optimizer.addParam(0, Bnb8.directFloats(4), null));

        OptimizerConfig config = new OptimizerConfig(Bnb8.ALGO_ADAM);
        config.delete();
        assertThrows(IllegalStateException.class, config::getLr);
        assertThrows(NullPointerException.class, () -> new Optimizer(config));  // SWIG's check of a null reference
    }
}
