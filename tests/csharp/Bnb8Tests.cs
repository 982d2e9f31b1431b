// The C# binding (namespace Bnb8) end to end, as a console program run by ctest: version, defaults,
// registration of pinned arrays and unmanaged memory, Adam's numbers against an independent float64
// computation, 8-bit states against the quantization maps, checkpoints (file and buffer) continuing bit
// for bit, errors as Bnb8Exception carrying the library's message, and deterministic release. Each case
// prints "ok" or "FAIL"; the exit status is the number of failures. tests/java/Bnb8Test.java checks the
// same things through Java; the tolerances are derived there and here alike.
using System;
using System.IO;
using System.Runtime.InteropServices;
using Bnb8;

static class Bnb8Tests {
  static int Main() {
    Action[] cases = {
      VersionOfTheLibraryMatchesTheHeader, CreateWithTheAlgorithmsDefaults, RegistersArraysAndUnmanagedMemory,
      SizesAndCountsAreLong, Adamw32BitMatchesFloat64Reference, Adam8BitStatesFollowTheMaps, Adam8BitTracks32Bit,
      Bf16StepIsTheFp32RuleRoundedOnce, ClipHistoryHoldsTheSquaredGradientNorm, QuantizeRoundTripWithinTheMapsGaps, CheckpointContinuesBitForBit,
      CorruptCheckpointLeavesTheOptimizerUnchanged, InvalidHyperParametersRaiseTheLibrarysMessage,
      BadArraysAreRefusedNamingTheArgument, RegisteredArraysStayPinnedWhileRegistered,
      DisposeIsDeterministicAndIdempotent,
    };
    int failures = 0;
    foreach (Action test in cases) {
      try {
        test();
        Console.WriteLine("ok   " + test.Method.Name);
      } catch (Exception e) {
        ++failures;
        Console.WriteLine("FAIL " + test.Method.Name + ": " + e);
      }
    }
    Console.WriteLine("{0} of {1} cases passed", cases.Length - failures, cases.Length);
    return failures;
  }

  // ---- assertions ----------------------------------------------------------------------------------

  static void Check(bool condition, string what) {
    if (!condition) {
      throw new Exception("check failed: " + what);
    }
  }

  static void Equal<T>(T expected, T actual, string what) {
    if (!Equals(expected, actual)) {
      throw new Exception(string.Format("{0}: expected {1}, got {2}", what, expected, actual));
    }
  }

  static void Near(double expected, double actual, double tolerance, string what) {
    if (!(Math.Abs(expected - actual) <= tolerance)) {
      throw new Exception(string.Format("{0}: expected {1:R} within {2:R}, got {3:R}", what, expected, tolerance, actual));
    }
  }

  static TException Throws<TException>(Action call) where TException : Exception {
    try {
      call();
    } catch (TException e) {
      return e;
    }
    throw new Exception("expected " + typeof(TException).Name);
  }

  static Bnb8Exception Invalid(Action call, params string[] fragments) {
    Bnb8Exception e = Throws<Bnb8Exception>(call);
    Equal(Bnb.ERR_INVALID_ARGUMENT, e.Status, "status of '" + e.Message + "'");
    foreach (string fragment in fragments) {
      Check(e.Message.Contains(fragment), "'" + e.Message + "' names " + fragment);
    }
    return e;
  }

  static int Bits(float x) {
    return BitConverter.ToInt32(BitConverter.GetBytes(x), 0);
  }

  static void BitwiseEqual(float[] expected, float[] actual, string what) {
    Equal(expected.Length, actual.Length, what + ": length");
    for (int i = 0; i < expected.Length; ++i) {
      if (Bits(expected[i]) != Bits(actual[i])) {
        throw new Exception(string.Format("{0}[{1}]: expected {2:R}, got {3:R}", what, i, expected[i], actual[i]));
      }
    }
  }

  // ---- data and helpers ----------------------------------------------------------------------------

  /// <summary>Elements of the test parameter: 3 full blocks of 256 and a tail, so block edges are crossed.</summary>
  const int N = 3 * 256 + 37;

  static float[] InitialParams(int n) {
    var random = new Random(7);
    var p = new float[n];
    for (int i = 0; i < n; ++i) {  // Box-Muller: normal with standard deviation 0.1
      double u = 1 - random.NextDouble(), w = random.NextDouble();
      p[i] = (float) (0.1 * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * w));
    }
    return p;
  }

  /// <summary>The gradient of step t: random signs, magnitudes in [0.005, 0.01] (see Adam8BitTracks32Bit).</summary>
  static float[] Gradient(int n, int t) {
    var random = new Random(1000 + t);
    var g = new float[n];
    for (int i = 0; i < n; ++i) {
      g[i] = (random.Next(2) == 0 ? 1 : -1) * (float) (0.005 + 0.005 * random.NextDouble());
    }
    return g;
  }

  static OptimizerConfig Config(int algorithm, int optimBits) {
    return new OptimizerConfig(algorithm) { OptimBits = optimBits, Min8bitSize = 0 };
  }

  /// <summary>One fp32 parameter (a pinned array) registered with its gradient, stepped with Gradient(n, t).</summary>
  sealed class Model : IDisposable {
    public readonly Optimizer Optimizer;
    public readonly float[] Param;
    public readonly float[] Grad;

    public Model(OptimizerConfig config, float[] initial) {
      Optimizer = new Optimizer(config);
      Param = (float[]) initial.Clone();
      Grad = new float[initial.Length];
      Equal(0L, Optimizer.AddParam(0, Param, Grad), "index");
    }

    public void Step(int t) {
      Gradient(Grad.Length, t).CopyTo(Grad, 0);  // the optimizer reads this very array
      Optimizer.Step();
    }

    public float[] State(int state) {
      var values = new float[Param.Length];
      Optimizer.CopyState(0, state, values);
      return values;
    }

    public void Dispose() {
      Optimizer.Dispose();
    }
  }

  // ---- version and configuration -------------------------------------------------------------------

  static void VersionOfTheLibraryMatchesTheHeader() {
    Equal(Bnb.VERSION_NUMBER, Bnb.VersionNumber(), "version number");
    Equal(Bnb.VERSION_MAJOR + "." + Bnb.VERSION_MINOR + "." + Bnb.VERSION_PATCH, Bnb.VersionString(), "version");
    Equal(Bnb.STATE_FORMAT_VERSION, Bnb.StateFormatVersion(), "format version");
    Check((Bnb.Features() & Bnb.FEATURE_CPU) != 0, "the CPU backend is there");
    Check(Bnb.StatusString(Bnb.ERR_IO).Length > 0, "status strings");
  }

  static void CreateWithTheAlgorithmsDefaults() {
    var config = new OptimizerConfig(Bnb.ALGO_ADAMW);
    Equal(Bnb.ALGO_ADAMW, config.Algorithm, "algorithm");
    Equal(32, config.OptimBits, "optim_bits");
    Equal(1e-3, config.Lr, "lr");
    Equal(0.9, config.Beta1, "beta1");
    Equal(0.999, config.Beta2, "beta2");
    Equal(1e-8, config.Eps, "eps");
    Equal(1e-2, config.WeightDecay, "weight_decay");
    Equal(4096L, config.Min8bitSize, "min_8bit_size");
    using (var optimizer = new Optimizer(config)) {
      Equal(1L, optimizer.GroupCount(), "groups");
      Equal(0L, optimizer.ParamCount(), "params");
      Equal(1e-3, optimizer.GetHparam(0, Bnb.HPARAM_LR), "group lr");
      OptimizerConfig effective = optimizer.GetConfig();
      Equal(config.WeightDecay, effective.WeightDecay, "effective weight_decay");
      Equal(config.StructSize, effective.StructSize, "struct_size");
    }
    HparamBounds beta1 = Bnb.GetHparamBounds(Bnb.ALGO_ADAMW, Bnb.HPARAM_BETA1);
    Equal(0.0, beta1.Min, "beta1 min");
    Equal(1.0, beta1.Max, "beta1 max");
    Check(beta1.MinInclusive && !beta1.MaxInclusive, "beta1 in [0, 1)");
  }

  // ---- registration --------------------------------------------------------------------------------

  /// <summary>
  /// Pinned arrays and unmanaged memory register alike and step alike (bitwise), the array is updated in
  /// place, and a parameter without a gradient is skipped.
  /// </summary>
  static void RegistersArraysAndUnmanagedMemory() {
    IntPtr param = Marshal.AllocHGlobal(N * sizeof(float)), grad = Marshal.AllocHGlobal(N * sizeof(float));
    try {
      Marshal.Copy(InitialParams(N), 0, param, N);
      Marshal.Copy(Gradient(N, 1), 0, grad, N);
      using (var model = new Model(Config(Bnb.ALGO_ADAM, 32), InitialParams(N)))
      using (var unmanaged = new Optimizer(Config(Bnb.ALGO_ADAM, 32))) {
        Equal(0L, unmanaged.AddParam(0, param, grad, N, Bnb.DTYPE_F32), "unmanaged index");
        long group = model.Optimizer.AddGroup();
        Equal(1L, group, "new group");
        Equal(1L, model.Optimizer.AddParam(group, new ushort[300], null, Bnb.DTYPE_BF16), "bf16 index");
        Equal(2L, model.Optimizer.ParamCount(), "params");

        ParamInfo info = model.Optimizer.ParamInfo(0);
        Equal((long) N, info.Numel, "numel");
        Equal(Bnb.DTYPE_F32, info.Dtype, "dtype");
        Equal(Bnb.DEVICE_CPU, info.Device, "device");
        Equal(Bnb.STATE_MODE_NONE, info.StateMode, "state mode before the first step");
        ParamInfo half = model.Optimizer.ParamInfo(1);
        Equal(300L, half.Numel, "bf16 numel");
        Equal(Bnb.DTYPE_BF16, half.Dtype, "bf16 dtype");
        Equal(1L, half.Group, "bf16 group");

        model.Step(1);
        unmanaged.Step();
        var fromUnmanaged = new float[N];
        Marshal.Copy(param, fromUnmanaged, 0, N);
        BitwiseEqual(model.Param, fromUnmanaged, "unmanaged params");
        float[] initial = InitialParams(N);
        for (int i = 0; i < N; ++i) {
          Check(model.Param[i] != initial[i], "element " + i + " updated in place");
        }
        Equal(1L, model.Optimizer.ParamInfo(0).Step, "stepped");
        Equal(0L, model.Optimizer.ParamInfo(1).Step, "no gradient: skipped");
        Equal(1L, model.Optimizer.LastStepInfo().ParamsStepped, "params stepped");
      }
    } finally {
      Marshal.FreeHGlobal(param);
      Marshal.FreeHGlobal(grad);
    }
  }

  static void SizesAndCountsAreLong() {
    Equal(typeof(long), typeof(ParamInfo).GetProperty("Numel").PropertyType, "ParamInfo.Numel");
    Equal(typeof(long), typeof(ParamInfo).GetProperty("Step").PropertyType, "ParamInfo.Step");
    Equal(typeof(long), typeof(ParamInfo).GetProperty("StateBytes").PropertyType, "ParamInfo.StateBytes");
    Equal(typeof(long), typeof(StateView).GetProperty("Numel").PropertyType, "StateView.Numel");
    Equal(typeof(long), typeof(OptimizerConfig).GetProperty("Min8bitSize").PropertyType, "Min8bitSize");
    Equal(typeof(long), typeof(OptimizerConfig).GetProperty("StructSize").PropertyType, "StructSize");
    Equal(typeof(long), typeof(Optimizer).GetMethod("SerializedSize").ReturnType, "SerializedSize");
    Equal(typeof(long), typeof(Optimizer).GetMethod("StateBytes").ReturnType, "StateBytes");
    Equal(typeof(long), typeof(Bnb).GetMethod("Features").ReturnType, "Features");
  }

  // ---- numbers -------------------------------------------------------------------------------------

  /// <summary>
  /// 32-bit AdamW (defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, decoupled weight decay 1e-2) for 5
  /// steps against torch's AdamW computed here in float64, with the tolerances derived in
  /// tests/java/Bnb8Test.java from the fp32 roundings of a step: after T steps p within 2 * T * (ulp(p) +
  /// 2^-19 * lr), m and v within T * 2^-21 * max|g| (resp. max|g|^2).
  /// </summary>
  static void Adamw32BitMatchesFloat64Reference() {
    const int steps = 5;
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-2, gmax = 0.01;
    float[] initial = InitialParams(N);
    double[] p = new double[N], m = new double[N], v = new double[N];
    for (int i = 0; i < N; ++i) {
      p[i] = initial[i];
    }
    using (var model = new Model(Config(Bnb.ALGO_ADAMW, 32), initial)) {
      for (int t = 1; t <= steps; ++t) {
        model.Step(t);
        float[] g = Gradient(N, t), m32 = model.State(Bnb.STATE1), v32 = model.State(Bnb.STATE2);
        for (int i = 0; i < N; ++i) {
          p[i] *= 1 - lr * wd;
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          double mHat = m[i] / (1 - Math.Pow(b1, t)), vHat = v[i] / (1 - Math.Pow(b2, t));
          p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
          double pTolerance = 2 * t * (Ulp((float) p[i]) + lr / (1 << 19));
          Near(p[i], model.Param[i], pTolerance, "p[" + i + "] at step " + t);
          Near(m[i], m32[i], t * gmax / (1 << 21), "m[" + i + "] at step " + t);
          Near(v[i], v32[i], t * gmax * gmax / (1 << 21), "v[" + i + "] at step " + t);
        }
      }
      ParamInfo info = model.Optimizer.ParamInfo(0);
      Equal((long) steps, info.Step, "step counter");
      Equal(Bnb.STATE_MODE_32BIT, info.StateMode, "state mode");
      Equal(2L * 4 * N, info.StateBytes, "fp32 state bytes");
    }
  }

  /// <summary>The distance from |x| to the next larger float.</summary>
  static double Ulp(float x) {
    int bits = Bits(Math.Abs(x));
    return BitConverter.ToSingle(BitConverter.GetBytes(bits + 1), 0) - (double) Math.Abs(x);
  }

  /// <summary>
  /// After one 8-bit step every state element is one of the two map entries around its exact fp32 value,
  /// times its block's absmax (ALGORITHMS.md §4). At step 1 the old states are 0, so m = fl32(fl32(1 -
  /// b1) * g) and v = fl32(fl32(1 - b2) * fl32(g * g)) exactly; each block's absmax is their largest
  /// magnitude.
  /// </summary>
  static void Adam8BitStatesFollowTheMaps() {
    using (var model = new Model(Config(Bnb.ALGO_ADAM, 8), InitialParams(N))) {
      model.Step(1);
      ParamInfo info = model.Optimizer.ParamInfo(0);
      Equal(Bnb.STATE_MODE_8BIT_BLOCKWISE, info.StateMode, "state mode");
      long blocks = (N + 255) / 256;
      Equal(2 * (N + 4 * blocks), info.StateBytes, "codes and one fp32 absmax per block, per state");

      float[] g = Gradient(N, 1), m = new float[N], v = new float[N];
      float nb1 = (float) (1 - 0.9), nb2 = (float) (1 - 0.999);
      for (int i = 0; i < N; ++i) {
        m[i] = (float) (nb1 * g[i]);
        v[i] = (float) (nb2 * (float) (g[i] * g[i]));
      }
      CheckAgainstMap("m", m, model.State(Bnb.STATE1), Bnb.QMAP_SIGNED);
      CheckAgainstMap("v", v, model.State(Bnb.STATE2), Bnb.QMAP_UNSIGNED);
    }
  }

  static void CheckAgainstMap(string what, float[] exact, float[] dequantized, int kind) {
    var map = new float[Bnb.QMAP_SIZE];
    Bnb.QmapCopy(kind, map);
    Equal(1.0f, map[255], "map[255]");
    for (int block = 0; block * 256 < exact.Length; ++block) {
      int end = Math.Min(exact.Length, (block + 1) * 256);
      float absmax = 0;
      for (int i = block * 256; i < end; ++i) {
        absmax = Math.Max(absmax, Math.Abs(exact[i]));
      }
      for (int i = block * 256; i < end; ++i) {
        float x = (float) (exact[i] * (float) (1.0f / absmax));
        int k = 0;
        while (k < 254 && map[k + 1] <= x) {
          ++k;
        }
        float low = (float) (map[k] * absmax), high = (float) (map[k + 1] * absmax);
        Check(dequantized[i] == low || dequantized[i] == high,
              string.Format("{0}[{1}] = {2:R} stored as {3:R}, not {4:R} or {5:R}", what, i, exact[i], dequantized[i],
                            low, high));
      }
    }
  }

  /// <summary>
  /// 8-bit and 32-bit Adam over 5 steps: parameters within 0.5 * lr of each other (the bound derived in
  /// tests/java/Bnb8Test.java from the maps' widest gaps, for |g| in [0.005, 0.01]), while the
  /// trajectories do differ and the parameters move well beyond the bound.
  /// </summary>
  static void Adam8BitTracks32Bit() {
    const double lr = 1e-3;
    using (var eight = new Model(Config(Bnb.ALGO_ADAM, 8), InitialParams(N)))
    using (var full = new Model(Config(Bnb.ALGO_ADAM, 32), InitialParams(N))) {
      for (int t = 1; t <= 5; ++t) {
        eight.Step(t);
        full.Step(t);
      }
      float[] initial = InitialParams(N);
      int differing = 0;
      double meanMove = 0;
      for (int i = 0; i < N; ++i) {
        Near(full.Param[i], eight.Param[i], 0.5 * lr, "p[" + i + "]");
        differing += eight.Param[i] != full.Param[i] ? 1 : 0;
        meanMove += Math.Abs(full.Param[i] - initial[i]) / N;
      }
      Check(differing > N / 2, "8-bit states change the trajectory");
      Check(meanMove > lr, "the parameters moved well beyond the bound (mean " + meanMove / lr + " lr)");
    }
  }

  /// <summary>
  /// bf16 parameters as ushort[]: one Adam step is, bit for bit, the fp32 rule of ALGORITHMS.md §6.1
  /// (per-step scalars rounded from double once, §5.2) followed by one round to nearest even to bf16
  /// (§1.4). Each operation is cast to float, so it is rounded to fp32 whatever precision the runtime
  /// evaluates in.
  /// </summary>
  static void Bf16StepIsTheFp32RuleRoundedOnce() {
    const int n = 300;
    float[] p = InitialParams(n), g = Gradient(n, 1);
    ushort[] param = new ushort[n], grad = new ushort[n];
    for (int i = 0; i < n; ++i) {
      param[i] = ToBf16(p[i]);
      grad[i] = ToBf16(g[i]);
    }
    using (var optimizer = new Optimizer(Config(Bnb.ALGO_ADAM, 32))) {
      optimizer.AddParam(0, param, grad, Bnb.DTYPE_BF16);
      optimizer.Step();
    }
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999;
    float nb1 = (float) (1 - b1), nb2 = (float) (1 - b2), eps = (float) 1e-8;
    float ss = (float) (lr / (1 - b1)), ic2 = (float) (1 / Math.Sqrt(1 - b2));
    for (int i = 0; i < n; ++i) {
      float p0 = FromBf16(ToBf16(p[i])), g0 = FromBf16(ToBf16(g[i]));
      float m = (float) (nb1 * g0);
      float v = (float) (nb2 * (float) (g0 * g0));
      float denominator = (float) ((float) ((float) Math.Sqrt(v) * ic2) + eps);
      float updated = (float) (p0 - (float) (ss * (float) (m / denominator)));
      Equal(ToBf16(updated), param[i], "bf16 p[" + i + "]");
    }
  }

  /// <summary>Round to nearest even from fp32 to bf16 (finite inputs).</summary>
  static ushort ToBf16(float x) {
    uint bits = (uint) Bits(x);
    return (ushort) ((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  }

  static float FromBf16(ushort bits) {
    return BitConverter.ToSingle(BitConverter.GetBytes((int) bits << 16), 0);
  }

  /// <summary>
  /// Percentile clipping's history after the first step: every slot holds the squared gradient norm
  /// (ALGORITHMS.md §7.3), within 2^-20 relative (fp32 pairwise sums 8 deep, then one rounding; see
  /// tests/java/Bnb8Test.java).
  /// </summary>
  static void ClipHistoryHoldsTheSquaredGradientNorm() {
    OptimizerConfig config = Config(Bnb.ALGO_ADAM, 32);
    config.PercentileClipping = 5;
    using (var model = new Model(config, InitialParams(N))) {
      var history = new float[100];
      Bnb8Exception none = Throws<Bnb8Exception>(() => model.Optimizer.CopyClipHistory(0, history));
      Equal(Bnb.ERR_INVALID_STATE, none.Status, "no history before the first step");
      model.Step(1);
      model.Optimizer.CopyClipHistory(0, history);
      double norm = 0;
      foreach (float g in Gradient(N, 1)) {
        norm += (float) (g * g);
      }
      for (int k = 0; k < 100; ++k) {
        Near(norm, history[k], norm / (1 << 20), "h[" + k + "]");
      }
      Invalid(() => model.Optimizer.CopyClipHistory(0, new float[99]), "99");
    }
  }

  static void QuantizeRoundTripWithinTheMapsGaps() {
    const int n = 1000;
    float[] values = Gradient(n, 3), map = new float[256], absmax = new float[4], back = new float[n];
    var codes = new byte[n];
    Bnb.QmapCopy(Bnb.QMAP_SIGNED, map);
    Bnb.QuantizeBlockwise(map, values, 256, codes, absmax);
    Bnb.DequantizeBlockwise(map, codes, absmax, 256, back);
    CheckAgainstMap("round trip", values, back, Bnb.QMAP_SIGNED);
    Invalid(() => Bnb.QuantizeBlockwise(map, values, 256, codes, new float[3]), "absmax", "4");
  }

  // ---- checkpoints ---------------------------------------------------------------------------------

  /// <summary>
  /// 8-bit AdamW: 3 steps, save (file and buffer), 3 more steps; a fresh optimizer given the saved
  /// parameters and the checkpoint continues bit for bit: same parameters, same states, same counter.
  /// </summary>
  static void CheckpointContinuesBitForBit() {
    string file = Path.Combine(Path.GetTempPath(), "bnb8_csharp_" + Guid.NewGuid() + ".safetensors");
    try {
      float[] savedParams, p, m, v;
      byte[] checkpoint;
      using (var run = new Model(Config(Bnb.ALGO_ADAMW, 8), InitialParams(N))) {
        for (int t = 1; t <= 3; ++t) {
          run.Step(t);
        }
        run.Optimizer.Save(file);
        savedParams = (float[]) run.Param.Clone();
        checkpoint = run.Optimizer.SaveToBuffer();
        Equal(run.Optimizer.SerializedSize(), checkpoint.LongLength, "serialized size");
        Check(SameBytes(File.ReadAllBytes(file), checkpoint), "Save and SaveToBuffer write the same bytes");
        for (int t = 4; t <= 6; ++t) {
          run.Step(t);
        }
        p = (float[]) run.Param.Clone();
        m = run.State(Bnb.STATE1);
        v = run.State(Bnb.STATE2);
      }
      foreach (bool fromFile in new[] { true, false }) {
        string how = fromFile ? "Load" : "LoadFromBuffer";
        using (var resumed = new Model(Config(Bnb.ALGO_ADAMW, 8), savedParams)) {
          if (fromFile) {
            resumed.Optimizer.Load(file);
          } else {
            resumed.Optimizer.LoadFromBuffer(checkpoint);
          }
          Equal(3L, resumed.Optimizer.ParamInfo(0).Step, how + ": step counter");
          for (int t = 4; t <= 6; ++t) {
            resumed.Step(t);
          }
          BitwiseEqual(p, resumed.Param, how + ": params");
          BitwiseEqual(m, resumed.State(Bnb.STATE1), how + ": m");
          BitwiseEqual(v, resumed.State(Bnb.STATE2), how + ": v");
        }
      }
    } finally {
      File.Delete(file);
    }
  }

  static bool SameBytes(byte[] a, byte[] b) {
    if (a.Length != b.Length) {
      return false;
    }
    for (int i = 0; i < a.Length; ++i) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    return true;
  }

  /// <summary>A corrupt file is refused with ERR_BAD_FORMAT and changes nothing: the next step is as if it never happened.</summary>
  static void CorruptCheckpointLeavesTheOptimizerUnchanged() {
    string file = Path.Combine(Path.GetTempPath(), "bnb8_csharp_" + Guid.NewGuid() + ".safetensors");
    try {
      using (var run = new Model(Config(Bnb.ALGO_ADAMW, 8), InitialParams(N)))
      using (var witness = new Model(Config(Bnb.ALGO_ADAMW, 8), InitialParams(N))) {
        run.Step(1);
        witness.Step(1);
        run.Optimizer.Save(file);
        byte[] bytes = File.ReadAllBytes(file);
        bytes[bytes.Length - 1] ^= 0x01;  // the last byte of the tensor data: its checksum no longer matches
        File.WriteAllBytes(file, bytes);
        run.Step(2);
        witness.Step(2);

        Bnb8Exception e = Throws<Bnb8Exception>(() => run.Optimizer.Load(file));
        Equal(Bnb.ERR_BAD_FORMAT, e.Status, "status of '" + e.Message + "'");
        string name = "missing-\u00e9\uD83D\uDE00";  // a path outside ASCII and outside the BMP, both ways
        Bnb8Exception missing = Throws<Bnb8Exception>(() => run.Optimizer.Load(file + name));
        Equal(Bnb.ERR_IO, missing.Status, "status of '" + missing.Message + "'");
        Check(missing.Message.Contains(name), "'" + missing.Message + "' names the file");

        Equal(2L, run.Optimizer.ParamInfo(0).Step, "step counter");
        run.Step(3);
        witness.Step(3);
        BitwiseEqual(witness.Param, run.Param, "params");
        BitwiseEqual(witness.State(Bnb.STATE1), run.State(Bnb.STATE1), "m");
      }
    } finally {
      File.Delete(file);
    }
  }

  // ---- errors --------------------------------------------------------------------------------------

  static void InvalidHyperParametersRaiseTheLibrarysMessage() {
    var config = new OptimizerConfig(Bnb.ALGO_ADAMW) { Lr = -1 };
    Invalid(() => new Optimizer(config), "lr", "-1");
    using (var optimizer = new Optimizer(new OptimizerConfig(Bnb.ALGO_ADAMW))) {
      Invalid(() => optimizer.SetHparam(0, Bnb.HPARAM_LR, -1), "lr", "-1");
      Equal(1e-3, optimizer.GetHparam(0, Bnb.HPARAM_LR), "a failed call changes nothing");
      Invalid(() => optimizer.SetHparam(7, Bnb.HPARAM_LR, 0.1), "7");
      Bnb8Exception e = Throws<Bnb8Exception>(() => optimizer.Step());
      Equal(Bnb.ERR_INVALID_STATE, e.Status, "step without parameters");
    }
    Invalid(() => new OptimizerConfig(42), "42");
  }

  static void BadArraysAreRefusedNamingTheArgument() {
    using (var optimizer = new Optimizer(new OptimizerConfig(Bnb.ALGO_ADAM))) {
      var param = new float[10];
      Invalid(() => optimizer.AddParam(0, param, new float[9]), "grad", "9", "10");
      Invalid(() => optimizer.AddParam(0, (float[]) null, null), "param", "null");
      Invalid(() => optimizer.AddParam(0, new ushort[10], null, Bnb.DTYPE_F32), "dtype");
      Invalid(() => optimizer.AddParam(3, param, null), "3");  // the library's check: no group 3
      Equal(0L, optimizer.ParamCount(), "failed registrations register nothing");

      optimizer.AddParam(0, param, new float[10]);
      Invalid(() => optimizer.BindParam(0, new float[11], null), "11", "10");
      Invalid(() => optimizer.CopyState(0, Bnb.STATE1, new float[4]), "4");
      Invalid(() => optimizer.SaveToBuffer(new byte[16]), "16");
      Invalid(() => Bnb.QmapCopy(Bnb.QMAP_SIGNED, new float[255]), "dst", "255");
    }
  }

  // ---- release -------------------------------------------------------------------------------------

  /// <summary>Registers a parameter array nothing but the optimizer references; returns a weak handle on it.</summary>
  static WeakReference RegisterUnreferenced(Optimizer optimizer) {
    var param = new float[64];
    optimizer.AddParam(0, param, new float[64]);
    return new WeakReference(param);
  }

  /// <summary>
  /// The optimizer writes a registered array at every step, so the array stays pinned, hence alive and in
  /// place, while registered (Note [csharp buffers]). (That Dispose unpins it is not checked: Mono scans
  /// stacks conservatively, so an unpinned array may still survive a collection.)
  /// </summary>
  static void RegisteredArraysStayPinnedWhileRegistered() {
    using (var optimizer = new Optimizer(Config(Bnb.ALGO_ADAM, 32))) {
      WeakReference param = RegisterUnreferenced(optimizer);
      for (int i = 0; i < 3; ++i) {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        optimizer.Step();
      }
      Check(param.IsAlive, "kept while registered");
    }
  }

  static void DisposeIsDeterministicAndIdempotent() {
    var optimizer = new Optimizer(new OptimizerConfig(Bnb.ALGO_SGD) { Lr = 0.1 });
    optimizer.AddParam(0, new float[4], new float[4]);
    optimizer.Dispose();
    optimizer.Dispose();
    ObjectDisposedException e = Throws<ObjectDisposedException>(() => optimizer.Step());
    Check(e.Message.Contains("Optimizer"), "'" + e.Message + "' names the type");
    Throws<ObjectDisposedException>(() => optimizer.ParamCount());
    Throws<ObjectDisposedException>(() => optimizer.AddParam(0, new float[4], null));

    var config = new OptimizerConfig(Bnb.ALGO_ADAM);
    config.Dispose();
    Throws<ObjectDisposedException>(() => Console.WriteLine(config.Lr));
  }
}
