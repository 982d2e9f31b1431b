/*
 * train_mlp.c -- the bnb8 CPU training demo: 8-bit AdamW states against 32-bit AdamW states.
 *
 * What it shows
 * -------------
 * A small multi-layer perceptron (MLP) is trained twice, side by side, from the same initial weights
 * on the same minibatches:
 *
 *   - once with bnb8 AdamW whose optimizer states (momentum m, variance v) are stored as 8-bit
 *     block-wise quantization (optim_bits = 8): one byte per state element plus one fp32 scale per
 *     256 elements;
 *   - once with bnb8 AdamW whose states are plain fp32 (optim_bits = 32).
 *
 * The task is teacher-student regression: a fixed, randomly initialised "teacher" MLP maps Gaussian
 * inputs to targets, and a wider "student" MLP learns to imitate it by minimising the mean squared
 * error. Forward and backward passes are written out by hand below, so the only thing bnb8 does is
 * what an optimizer does in a training framework: after each backward pass, bnb_step() reads every
 * gradient buffer and updates its parameter buffer in place.
 *
 * The weight matrices have more than min_8bit_size (4096, the default) elements, so they get 8-bit
 * states; the bias vectors are smaller and keep fp32 states, as in bitsandbytes. The demo prints the
 * held-out loss of both runs as training proceeds, then the final losses, the optimizer state memory
 * of each run and the average time of one bnb_step(), and finally two acceptance checks:
 *
 *   - the 8-bit run's final held-out loss is within 5 % (relative) of the 32-bit run's;
 *   - the 8-bit states take at most 30 % of the bytes of the 32-bit states.
 *
 * Both checks are measured, never assumed. The loss gap in particular depends on how far training
 * goes: longer runs (--steps) reach lower losses, where 8-bit states can fall behind 32-bit ones by
 * more than 5 %; the demo then prints FAIL rather than hiding it.
 *
 * The process exits with status 0 when both checks pass, 1 when a check fails or bnb8 reports an
 * error, and 2 on a command-line error. A given --seed gives the same output on every run of the
 * same build (the random numbers come from the demo's own generator, not from libc).
 *
 * Usage: train_mlp [--steps N] [--quick] [--seed S] [--schedule constant|cosine] [--help]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bnb8.h"

/* ================================================================================================ */
/* Settings                                                                                         */
/* ================================================================================================ */

/* The task. The teacher is deliberately smaller than the student, so the student can fit it well. */
#define N_INPUTS 64         /* input features */
#define N_OUTPUTS 16        /* regression targets */
#define TEACHER_HIDDEN 256  /* teacher: 64 -> 256 (tanh) -> 16 */
#define STUDENT_HIDDEN 384  /* student: 64 -> 384 (tanh) -> 384 (tanh) -> 16 */
#define TEACHER_GAIN 1.5    /* scales the teacher's first layer so its tanh is clearly non-linear */

/* Training. */
#define BATCH_SIZE 64       /* samples per minibatch, i.e. per optimizer step */
#define HELDOUT_SIZE 2048   /* fixed held-out samples the loss table is computed on */
#define LEARNING_RATE 1e-3  /* AdamW; betas 0.9 / 0.999, eps 1e-8 and weight decay 1e-2 are defaults */
#define DEFAULT_STEPS 3000
#define QUICK_STEPS 200
#define MAX_STEPS 100000000
#define DEFAULT_SEED 42
#define TABLE_ROWS 20       /* the held-out loss is printed about this many times */

/* Acceptance checks. */
#define MAX_LOSS_GAP 0.05   /* |loss8 - loss32| / loss32 */
#define MAX_STATE_RATIO 0.30 /* state bytes 8-bit / state bytes 32-bit */

#define MAX_LAYERS 3

/* ================================================================================================ */
/* Errors                                                                                           */
/* ================================================================================================ */

/* The demo is an application: on any bnb8 failure it says what failed and why, then exits. */
static void check(bnb_status status, const char* what) {
    if (status == BNB_OK) return;
    fprintf(stderr, "train_mlp: %s failed: %s\n  detail: %s\n", what, bnb_status_string(status),
            bnb_last_error_message());
    exit(EXIT_FAILURE);
}

static float* alloc_floats(size_t count) {
    float* p = calloc(count, sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "train_mlp: out of memory (%zu floats)\n", count);
        exit(EXIT_FAILURE);
    }
    return p;
}

/* ================================================================================================ */
/* Deterministic random numbers: xoshiro256** seeded by splitmix64, normals by Box-Muller           */
/* ================================================================================================ */

typedef struct rng {
    uint64_t s[4];
    int has_spare; /* Box-Muller makes normals in pairs; the second one is kept here */
    double spare;
} rng;

static uint64_t splitmix64(uint64_t* x) {
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Independent streams for the teacher, the student, the training data and the held-out data, so that
 * e.g. changing the number of steps does not change the held-out set. */
static void rng_seed(rng* r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; ++i) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng* r) {
    uint64_t* s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1]: never 0, so log() below is finite. */
static double rng_uniform(rng* r) { return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53; }

static double rng_normal(rng* r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    const double radius = sqrt(-2.0 * log(rng_uniform(r)));
    const double angle = 6.283185307179586 * rng_uniform(r);
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

static void fill_normal(rng* r, float* x, size_t count, double stddev) {
    for (size_t i = 0; i < count; ++i) x[i] = (float)(rng_normal(r) * stddev);
}

/* ================================================================================================ */
/* Dense kernels (row-major matrices)                                                               */
/* ================================================================================================ */

/* C (m x n) += A (m x k) * B (k x n). The innermost loop walks along rows of B and C, so the compiler
 * vectorises it without reordering any sum (the build forbids fast-math). B is visited in panels of
 * PANEL rows that stay in cache while every row of A uses them. */
#define PANEL 64
static void matmul_acc(int m, int k, int n, const float* restrict a, const float* restrict b,
                       float* restrict c) {
    for (int k0 = 0; k0 < k; k0 += PANEL) {
        const int k1 = k0 + PANEL < k ? k0 + PANEL : k;
        for (int i = 0; i < m; ++i) {
            float* restrict c_row = c + (size_t)i * (size_t)n;
            for (int p = k0; p < k1; ++p) {
                const float a_ip = a[(size_t)i * (size_t)k + (size_t)p];
                const float* restrict b_row = b + (size_t)p * (size_t)n;
                for (int j = 0; j < n; ++j) c_row[j] += a_ip * b_row[j];
            }
        }
    }
}

/* dst (cols x rows) = src (rows x cols) transposed. The backward pass needs A^T and W^T; transposing
 * once is cheap next to the matrix product and lets matmul_acc serve every product. */
static void transpose(int rows, int cols, const float* restrict src, float* restrict dst) {
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j)
            dst[(size_t)j * (size_t)rows + (size_t)i] = src[(size_t)i * (size_t)cols + (size_t)j];
}

/* ================================================================================================ */
/* The MLP: dense layers, tanh between them, a linear output layer                                  */
/* ================================================================================================ */

/* One dense layer y = x W + b, with W stored as n_in rows of n_out (row-major), so a minibatch X
 * (rows x n_in) times W is a plain matmul_acc. grad_w and grad_b are what bnb8 reads in bnb_step(). */
typedef struct layer {
    int n_in, n_out;
    float* w;      /* n_in * n_out */
    float* b;      /* n_out */
    float* grad_w; /* same shape as w */
    float* grad_b; /* same shape as b */
} layer;

/* An MLP: its layers and the buffers of one forward/backward pass over up to BATCH_SIZE rows.
 * act[0] is the input; act[l + 1] is the output of layer l (after tanh for hidden layers, raw for the
 * output layer). */
typedef struct mlp {
    int n_layers;
    layer layers[MAX_LAYERS];
    float* act[MAX_LAYERS + 1];
    float* delta[MAX_LAYERS + 1]; /* d loss / d (pre-activation) of each layer's output, per row */
    float* scratch_t;             /* transposes for the backward pass */
} mlp;

static int mlp_width(const mlp* net, int index) {
    return index == 0 ? net->layers[0].n_in : net->layers[index - 1].n_out;
}

static int64_t mlp_param_count(const mlp* net) {
    int64_t count = 0;
    for (int l = 0; l < net->n_layers; ++l)
        count += (int64_t)net->layers[l].n_in * net->layers[l].n_out + net->layers[l].n_out;
    return count;
}

/* Allocate an MLP with sizes[0] inputs and sizes[n_layers] outputs; every buffer starts at zero. */
static void mlp_alloc(mlp* net, int n_layers, const int* sizes) {
    memset(net, 0, sizeof *net);
    net->n_layers = n_layers;
    size_t largest = 0;
    for (int l = 0; l < n_layers; ++l) {
        layer* ly = &net->layers[l];
        ly->n_in = sizes[l];
        ly->n_out = sizes[l + 1];
        const size_t nw = (size_t)ly->n_in * (size_t)ly->n_out;
        ly->w = alloc_floats(nw);
        ly->b = alloc_floats((size_t)ly->n_out);
        ly->grad_w = alloc_floats(nw);
        ly->grad_b = alloc_floats((size_t)ly->n_out);
        if (nw > largest) largest = nw;
    }
    for (int i = 0; i <= n_layers; ++i) {
        net->act[i] = alloc_floats((size_t)BATCH_SIZE * (size_t)sizes[i]);
        net->delta[i] = alloc_floats((size_t)BATCH_SIZE * (size_t)sizes[i]);
        const size_t batch_t = (size_t)BATCH_SIZE * (size_t)sizes[i];
        if (batch_t > largest) largest = batch_t;
    }
    net->scratch_t = alloc_floats(largest);
}

/* Weights N(0, gain^2 / fan_in) in the first layer and N(0, 1 / fan_in) after it (LeCun
 * initialisation, which suits tanh); biases N(0, bias_std^2). */
static void mlp_randomize(mlp* net, double first_gain, double bias_std, rng* r) {
    for (int l = 0; l < net->n_layers; ++l) {
        layer* ly = &net->layers[l];
        const double gain = l == 0 ? first_gain : 1.0;
        fill_normal(r, ly->w, (size_t)ly->n_in * (size_t)ly->n_out, gain / sqrt((double)ly->n_in));
        fill_normal(r, ly->b, (size_t)ly->n_out, bias_std);
    }
}

/* The student of the 8-bit run and of the 32-bit run must start from the same weights. */
static void mlp_copy_weights(mlp* dst, const mlp* src) {
    for (int l = 0; l < src->n_layers; ++l) {
        const layer* s = &src->layers[l];
        memcpy(dst->layers[l].w, s->w, sizeof(float) * (size_t)s->n_in * (size_t)s->n_out);
        memcpy(dst->layers[l].b, s->b, sizeof(float) * (size_t)s->n_out);
    }
}

static void mlp_free(mlp* net) {
    for (int l = 0; l < net->n_layers; ++l) {
        free(net->layers[l].w);
        free(net->layers[l].b);
        free(net->layers[l].grad_w);
        free(net->layers[l].grad_b);
    }
    for (int i = 0; i <= net->n_layers; ++i) {
        free(net->act[i]);
        free(net->delta[i]);
    }
    free(net->scratch_t);
}

/* Forward pass over `rows` (<= BATCH_SIZE) inputs; returns the outputs (rows x n_outputs), valid
 * until the next pass. The activations are kept for the backward pass. */
static const float* mlp_forward(mlp* net, const float* x, int rows) {
    memcpy(net->act[0], x, sizeof(float) * (size_t)rows * (size_t)mlp_width(net, 0));
    for (int l = 0; l < net->n_layers; ++l) {
        const layer* ly = &net->layers[l];
        float* out = net->act[l + 1];
        /* Start every row from the bias, then accumulate x W on top of it. */
        for (int r = 0; r < rows; ++r)
            memcpy(out + (size_t)r * (size_t)ly->n_out, ly->b, sizeof(float) * (size_t)ly->n_out);
        matmul_acc(rows, ly->n_in, ly->n_out, net->act[l], ly->w, out);
        if (l + 1 < net->n_layers) {
            const size_t count = (size_t)rows * (size_t)ly->n_out;
            for (size_t i = 0; i < count; ++i) out[i] = tanhf(out[i]);
        }
    }
    return net->act[net->n_layers];
}

/* Mean squared error over all rows and outputs, and (when grad_out is not NULL) its gradient with
 * respect to the outputs: 2 (y - t) / (rows * n_outputs). */
static double mse(const float* y, const float* target, int rows, int n_out, float* grad_out) {
    const size_t count = (size_t)rows * (size_t)n_out;
    const float scale = 2.0f / (float)count;
    double sum = 0.0;
    for (size_t i = 0; i < count; ++i) {
        const float diff = y[i] - target[i];
        sum += (double)diff * (double)diff;
        if (grad_out != NULL) grad_out[i] = scale * diff;
    }
    return sum / (double)count;
}

/* Backward pass after mlp_forward() on the same rows, with net->delta[n_layers] holding d loss / d
 * outputs. Overwrites every grad_w and grad_b (no accumulation across steps). */
static void mlp_backward(mlp* net, int rows) {
    for (int l = net->n_layers - 1; l >= 0; --l) {
        layer* ly = &net->layers[l];
        const float* delta = net->delta[l + 1]; /* rows x n_out */
        const float* input = net->act[l];       /* rows x n_in */

        /* grad_b = sum over rows of delta. */
        memset(ly->grad_b, 0, sizeof(float) * (size_t)ly->n_out);
        for (int r = 0; r < rows; ++r) {
            const float* delta_row = delta + (size_t)r * (size_t)ly->n_out;
            for (int j = 0; j < ly->n_out; ++j) ly->grad_b[j] += delta_row[j];
        }

        /* grad_w (n_in x n_out) = input^T (n_in x rows) * delta (rows x n_out). */
        memset(ly->grad_w, 0, sizeof(float) * (size_t)ly->n_in * (size_t)ly->n_out);
        transpose(rows, ly->n_in, input, net->scratch_t);
        matmul_acc(ly->n_in, rows, ly->n_out, net->scratch_t, delta, ly->grad_w);

        if (l == 0) break; /* nobody needs the gradient with respect to the data */

        /* d loss / d input (rows x n_in) = delta (rows x n_out) * W^T (n_out x n_in), then through
         * tanh: d tanh(z) / dz = 1 - tanh(z)^2, and tanh(z) is the stored activation. */
        float* prev = net->delta[l];
        memset(prev, 0, sizeof(float) * (size_t)rows * (size_t)ly->n_in);
        transpose(ly->n_in, ly->n_out, ly->w, net->scratch_t);
        matmul_acc(rows, ly->n_out, ly->n_in, delta, net->scratch_t, prev);
        const size_t count = (size_t)rows * (size_t)ly->n_in;
        for (size_t i = 0; i < count; ++i) prev[i] *= 1.0f - input[i] * input[i];
    }
}

/* ================================================================================================ */
/* Data                                                                                             */
/* ================================================================================================ */

/* `rows` Gaussian inputs and the teacher's outputs for them, in chunks of BATCH_SIZE rows. */
static void make_samples(mlp* teacher, rng* r, int rows, float* x, float* y) {
    fill_normal(r, x, (size_t)rows * N_INPUTS, 1.0);
    for (int r0 = 0; r0 < rows; r0 += BATCH_SIZE) {
        const int n = rows - r0 < BATCH_SIZE ? rows - r0 : BATCH_SIZE;
        const float* out = mlp_forward(teacher, x + (size_t)r0 * N_INPUTS, n);
        memcpy(y + (size_t)r0 * N_OUTPUTS, out, sizeof(float) * (size_t)n * N_OUTPUTS);
    }
}

typedef struct dataset {
    int rows;
    float* x; /* rows x N_INPUTS */
    float* y; /* rows x N_OUTPUTS */
} dataset;

static void dataset_init(dataset* d, int rows) {
    d->rows = rows;
    d->x = alloc_floats((size_t)rows * N_INPUTS);
    d->y = alloc_floats((size_t)rows * N_OUTPUTS);
}

static void dataset_free(dataset* d) {
    free(d->x);
    free(d->y);
}

/* Mean squared error of `net` over the whole data set (forward passes only). */
static double evaluate(mlp* net, const dataset* d) {
    double sum = 0.0;
    for (int r0 = 0; r0 < d->rows; r0 += BATCH_SIZE) {
        const int n = d->rows - r0 < BATCH_SIZE ? d->rows - r0 : BATCH_SIZE;
        const float* out = mlp_forward(net, d->x + (size_t)r0 * N_INPUTS, n);
        sum += mse(out, d->y + (size_t)r0 * N_OUTPUTS, n, N_OUTPUTS, NULL) * n;
    }
    return sum / d->rows;
}

/* ================================================================================================ */
/* Command line                                                                                     */
/* ================================================================================================ */

typedef struct options {
    int64_t steps;
    uint64_t seed;
    int cosine; /* learning-rate schedule: 0 constant, 1 warm-up then cosine decay */
} options;

static void print_usage(FILE* out) {
    fprintf(out,
            "Usage: train_mlp [--steps N] [--quick] [--seed S] [--schedule constant|cosine] [--help]\n"
            "\n"
            "Trains the same MLP twice on a teacher-student regression task, with bnb8 AdamW keeping\n"
            "8-bit optimizer states and with bnb8 AdamW keeping 32-bit states, and compares them.\n"
            "\n"
            "  --steps N   optimizer steps per run (default %d)\n"
            "  --quick     short run of %d steps, e.g. for CI (same as --steps %d; the last\n"
            "              of --steps and --quick wins)\n"
            "  --seed S    seed of the teacher, the initial weights and the data (default %d)\n"
            "  --schedule constant|cosine\n"
            "              learning rate: constant (default), or a linear warm-up over the first 5 %%\n"
            "              of the steps then a cosine decay to 10 %% of the peak, set on both\n"
            "              optimizers before every step with bnb_optimizer_set_hparam()\n"
            "  --help      show this text\n"
            "\n"
            "Exit status: 0 when the acceptance checks pass, 1 when one fails or bnb8 reports an\n"
            "error, 2 on a command-line error.\n",
            DEFAULT_STEPS, QUICK_STEPS, QUICK_STEPS, DEFAULT_SEED);
}

static void usage_error(const char* message, const char* arg) {
    fprintf(stderr, "train_mlp: %s%s\n\n", message, arg);
    print_usage(stderr);
    exit(2);
}

/* A whole decimal number, nothing else (strtoull alone accepts "-1", " 5" and "5x"). */
static uint64_t parse_number(const char* option, const char* text, uint64_t max) {
    if (text == NULL) usage_error("missing value after ", option);
    if (text[0] < '0' || text[0] > '9') usage_error("expected a non-negative whole number, got ", text);
    errno = 0;
    char* end = NULL;
    const unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max)
        usage_error("number out of range or malformed: ", text);
    return (uint64_t)value;
}

/* --quick and --steps both set the step count; the last one given wins. */
static options parse_options(int argc, char** argv) {
    options opt;
    opt.steps = DEFAULT_STEPS;
    opt.seed = DEFAULT_SEED;
    opt.cosine = 0;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(EXIT_SUCCESS);
        } else if (strcmp(arg, "--quick") == 0) {
            opt.steps = QUICK_STEPS;
        } else if (strcmp(arg, "--steps") == 0) {
            const char* value = i + 1 < argc ? argv[++i] : NULL;
            opt.steps = (int64_t)parse_number(arg, value, MAX_STEPS);
            if (opt.steps < 1) usage_error("--steps must be at least 1, got ", value);
        } else if (strcmp(arg, "--schedule") == 0) {
            const char* value = i + 1 < argc ? argv[++i] : NULL;
            if (value != NULL && strcmp(value, "constant") == 0) {
                opt.cosine = 0;
            } else if (value != NULL && strcmp(value, "cosine") == 0) {
                opt.cosine = 1;
            } else {
                usage_error("--schedule takes constant or cosine, got ", value);
            }
        } else if (strcmp(arg, "--seed") == 0) {
            const char* value = i + 1 < argc ? argv[++i] : NULL;
            opt.seed = parse_number(arg, value, UINT64_MAX);
        } else {
            usage_error("unknown option ", arg);
        }
    }
    return opt;
}

/* ================================================================================================ */
/* The task: a fixed teacher, a fixed held-out set and a stream of fresh minibatches                */
/* ================================================================================================ */

typedef struct task {
    mlp teacher;
    dataset heldout;
    dataset batch; /* the current minibatch, shared by both runs */
    rng data_rng;  /* the stream the minibatches are drawn from */
} task;

/* Independent streams of one seed for the teacher, the student, the minibatches and the held-out set,
 * so that e.g. --steps does not change the held-out set. */
enum { STREAM_TEACHER = 1, STREAM_STUDENT = 2, STREAM_DATA = 3, STREAM_HELDOUT = 4 };

static void task_init(task* t, uint64_t seed) {
    static const int teacher_sizes[] = {N_INPUTS, TEACHER_HIDDEN, N_OUTPUTS};
    rng teacher_rng, heldout_rng;
    rng_seed(&teacher_rng, seed, STREAM_TEACHER);
    rng_seed(&heldout_rng, seed, STREAM_HELDOUT);
    rng_seed(&t->data_rng, seed, STREAM_DATA);

    mlp_alloc(&t->teacher, 2, teacher_sizes);
    /* Small random teacher biases, so the targets are not centred exactly on zero. */
    mlp_randomize(&t->teacher, TEACHER_GAIN, 0.1, &teacher_rng);

    dataset_init(&t->heldout, HELDOUT_SIZE);
    make_samples(&t->teacher, &heldout_rng, HELDOUT_SIZE, t->heldout.x, t->heldout.y);
    dataset_init(&t->batch, BATCH_SIZE);
}

static void task_next_batch(task* t) {
    make_samples(&t->teacher, &t->data_rng, BATCH_SIZE, t->batch.x, t->batch.y);
}

static void task_free(task* t) {
    mlp_free(&t->teacher);
    dataset_free(&t->heldout);
    dataset_free(&t->batch);
}

/* The student's initial weights, which both runs copy. */
static void student_init(mlp* student, uint64_t seed) {
    static const int student_sizes[] = {N_INPUTS, STUDENT_HIDDEN, STUDENT_HIDDEN, N_OUTPUTS};
    rng student_rng;
    rng_seed(&student_rng, seed, STREAM_STUDENT);
    mlp_alloc(student, 3, student_sizes);
    mlp_randomize(student, 1.0, 0.0, &student_rng);
}

/* ================================================================================================ */
/* One training run: a copy of the student, its bnb8 optimizer, its step timing                     */
/* ================================================================================================ */

typedef struct run {
    const char* name; /* "8-bit" or "32-bit" */
    mlp net;
    bnb_optimizer* opt;
    double step_seconds; /* total time spent inside bnb_step() */
    int64_t steps;
} run;

static bnb_tensor f32_tensor(float* data, int64_t numel) {
    bnb_tensor t;
    t.data = data;
    t.numel = numel;
    t.dtype = BNB_DTYPE_F32;
    t.device = BNB_DEVICE_CPU;
    return t;
}

/* AdamW with the library's defaults (betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2, block-wise
 * 8-bit states, min_8bit_size 4096) except the learning rate and, between the runs, optim_bits. */
static bnb_optimizer* make_adamw(int optim_bits) {
    bnb_optimizer_config cfg;
    check(bnb_optimizer_config_init(&cfg, BNB_ALGO_ADAMW), "bnb_optimizer_config_init");
    cfg.optim_bits = optim_bits;
    cfg.lr = LEARNING_RATE;
    bnb_optimizer* opt = NULL;
    check(bnb_optimizer_create(&cfg, &opt), "bnb_optimizer_create");
    return opt;
}

/* Register every weight and bias with its gradient buffer, in parameter group 0. bnb8 keeps pointers
 * to these buffers: they must not move while the optimizer lives. */
static void register_params(bnb_optimizer* opt, mlp* net) {
    for (int l = 0; l < net->n_layers; ++l) {
        layer* ly = &net->layers[l];
        const int64_t nw = (int64_t)ly->n_in * ly->n_out;
        const bnb_tensor w = f32_tensor(ly->w, nw), gw = f32_tensor(ly->grad_w, nw);
        const bnb_tensor b = f32_tensor(ly->b, ly->n_out), gb = f32_tensor(ly->grad_b, ly->n_out);
        check(bnb_optimizer_add_param(opt, 0, &w, &gw, NULL), "bnb_optimizer_add_param (weight)");
        check(bnb_optimizer_add_param(opt, 0, &b, &gb, NULL), "bnb_optimizer_add_param (bias)");
    }
}

static void run_init(run* rn, const char* name, int optim_bits, const mlp* initial) {
    int sizes[MAX_LAYERS + 1];
    for (int i = 0; i <= initial->n_layers; ++i) sizes[i] = mlp_width(initial, i);
    rn->name = name;
    mlp_alloc(&rn->net, initial->n_layers, sizes);
    mlp_copy_weights(&rn->net, initial);
    rn->opt = make_adamw(optim_bits);
    register_params(rn->opt, &rn->net);
    rn->step_seconds = 0.0;
    rn->steps = 0;
}

static void run_free(run* rn) {
    bnb_optimizer_destroy(rn->opt);
    mlp_free(&rn->net);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Forward, loss gradient, backward, then the optimizer step; only bnb_step() is timed. */
static void train_step(run* rn, const dataset* batch) {
    mlp* net = &rn->net;
    const float* out = mlp_forward(net, batch->x, batch->rows);
    (void)mse(out, batch->y, batch->rows, N_OUTPUTS, net->delta[net->n_layers]);
    mlp_backward(net, batch->rows);

    const double start = now_seconds();
    const bnb_status status = bnb_step(rn->opt);
    rn->step_seconds += now_seconds() - start;
    rn->steps += 1;
    if (status != BNB_OK) {
        char what[64];
        snprintf(what, sizeof what, "bnb_step (%s run, step %lld)", rn->name, (long long)rn->steps);
        check(status, what);
    }
}

/* ================================================================================================ */
/* Output                                                                                           */
/* ================================================================================================ */

/* A one-line progress indicator on stderr, only when stderr is a terminal (not in logs or CI). */
typedef struct progress {
    int enabled;
    int shown; /* the line is on screen */
    int last_percent;
} progress;

static void progress_update(progress* p, int64_t step, int64_t total) {
    if (!p->enabled) return;
    const int percent = (int)(100 * step / total);
    if (p->shown && percent == p->last_percent) return;
    fprintf(stderr, "\r  training: %3d %% (step %lld of %lld)", percent, (long long)step,
            (long long)total);
    fflush(stderr);
    p->shown = 1;
    p->last_percent = percent;
}

/* Erase the progress line before anything goes to stdout, which may be the same terminal. */
static void progress_clear(progress* p) {
    if (!p->shown) return;
    fprintf(stderr, "\r%60s\r", "");
    fflush(stderr);
    p->shown = 0;
}

/* (8-bit - 32-bit) / 32-bit: positive when the 8-bit run is worse. */
static double relative_gap(double loss8, double loss32) { return (loss8 - loss32) / loss32; }

static void print_header(const options* opt, const mlp* student, const run* r8) {
    /* Print the configuration the library actually uses, defaults resolved. */
    bnb_optimizer_config cfg;
    cfg.struct_size = sizeof cfg;
    check(bnb_optimizer_get_config(r8->opt, &cfg), "bnb_optimizer_get_config");

    printf("bnb8 %s -- CPU training demo: AdamW with 8-bit vs 32-bit optimizer states\n",
           bnb_version_string());
    printf("  task       teacher-student regression: teacher %d -> %d (tanh) -> %d, Gaussian inputs\n",
           N_INPUTS, TEACHER_HIDDEN, N_OUTPUTS);
    printf("  student    %d -> %d (tanh) -> %d (tanh) -> %d: %lld parameters in %d tensors\n", N_INPUTS,
           STUDENT_HIDDEN, STUDENT_HIDDEN, N_OUTPUTS, (long long)mlp_param_count(student),
           2 * student->n_layers);
    printf("  training   %lld steps, minibatch %d, mean squared error, seed %llu\n",
           (long long)opt->steps, BATCH_SIZE, (unsigned long long)opt->seed);
    printf("  optimizer  AdamW lr %g%s, betas %g / %g, eps %g, weight decay %g\n", cfg.lr,
           opt->cosine ? " (peak; 5 % warm-up, cosine decay to 10 %)" : " (constant)", cfg.beta1, cfg.beta2,
           cfg.eps, cfg.weight_decay);
    printf("  runs       8-bit: optim_bits 8, %s states, min_8bit_size %lld;  32-bit: optim_bits 32\n",
           cfg.block_wise ? "block-wise" : "tensor-wise", (long long)cfg.min_8bit_size);
    printf("             same initial weights and minibatches; only the state precision differs\n");
    printf("\nheld-out loss (mean squared error over %d fixed samples)\n", HELDOUT_SIZE);
    printf("  %7s   %12s   %12s   %10s\n", "step", "8-bit", "32-bit", "rel. diff");
}

static void print_row(int64_t step, double loss8, double loss32) {
    printf("  %7lld   %12.6f   %12.6f   %+8.2f %%\n", (long long)step, loss8, loss32,
           100.0 * relative_gap(loss8, loss32));
    fflush(stdout);
}

/* ================================================================================================ */
/* Training side by side                                                                            */
/* ================================================================================================ */

typedef struct outcome {
    double initial_loss; /* held-out loss of the common initial weights */
    double loss8, loss32; /* held-out loss after the last step */
    double seconds;      /* wall time of the training loop, evaluations included */
} outcome;

/* The learning rate of step `step` (1-based) of `steps`: constant, or a linear warm-up over the first 5 %
 * of the steps followed by a cosine decay from LEARNING_RATE to 10 % of it. */
static double scheduled_lr(int cosine, int64_t step, int64_t steps) {
    if (!cosine) return LEARNING_RATE;
    const double warmup = 0.05 * (double)steps;
    if ((double)step < warmup) return LEARNING_RATE * (double)step / warmup;
    const double decay = ((double)step - warmup) / ((double)steps - warmup);
    return LEARNING_RATE * (0.1 + 0.9 * 0.5 * (1.0 + cos(3.14159265358979323846 * decay)));
}

/* Both runs take each minibatch in turn; the held-out loss is printed about TABLE_ROWS times. */
static outcome train_side_by_side(task* t, run* r8, run* r32, mlp* initial, int64_t steps, int cosine) {
    const int64_t eval_every = (steps + TABLE_ROWS - 1) / TABLE_ROWS;
    outcome out;
    out.initial_loss = evaluate(initial, &t->heldout);
    out.loss8 = out.loss32 = out.initial_loss;
    print_row(0, out.loss8, out.loss32);

    progress prog = {isatty(STDERR_FILENO), 0, -1};
    const double start = now_seconds();
    for (int64_t step = 1; step <= steps; ++step) {
        task_next_batch(t);
        if (cosine) { /* a scheduler only needs to set the group's learning rate between steps */
            const double lr = scheduled_lr(cosine, step, steps);
            check(bnb_optimizer_set_hparam(r8->opt, 0, BNB_HPARAM_LR, lr), "bnb_optimizer_set_hparam");
            check(bnb_optimizer_set_hparam(r32->opt, 0, BNB_HPARAM_LR, lr), "bnb_optimizer_set_hparam");
        }
        train_step(r8, &t->batch);
        train_step(r32, &t->batch);
        if (step % eval_every == 0 || step == steps) {
            out.loss8 = evaluate(&r8->net, &t->heldout);
            out.loss32 = evaluate(&r32->net, &t->heldout);
            progress_clear(&prog);
            print_row(step, out.loss8, out.loss32);
        }
        progress_update(&prog, step, steps);
    }
    progress_clear(&prog);
    out.seconds = now_seconds() - start;
    return out;
}

/* ================================================================================================ */
/* Results and acceptance checks                                                                    */
/* ================================================================================================ */

static int64_t state_bytes(const bnb_optimizer* opt) {
    int64_t bytes = 0;
    check(bnb_optimizer_state_bytes(opt, &bytes), "bnb_optimizer_state_bytes");
    return bytes;
}

/* How many tensors (and elements) got 8-bit states: the weights, not the smaller biases. */
static void count_8bit(const bnb_optimizer* opt, int64_t* tensors, int64_t* elements) {
    int64_t count = 0;
    check(bnb_optimizer_param_count(opt, &count), "bnb_optimizer_param_count");
    *tensors = 0;
    *elements = 0;
    for (int64_t i = 0; i < count; ++i) {
        bnb_param_info info;
        info.struct_size = sizeof info;
        check(bnb_optimizer_param_info(opt, i, &info), "bnb_optimizer_param_info");
        if (info.state_mode == BNB_STATE_MODE_8BIT_BLOCKWISE ||
            info.state_mode == BNB_STATE_MODE_8BIT_TENSORWISE) {
            *tensors += 1;
            *elements += info.numel;
        }
    }
}

static double step_ms(const run* rn) {
    return rn->steps > 0 ? 1e3 * rn->step_seconds / (double)rn->steps : 0.0;
}

/* Mean of sqrt(v_8bit / v_32bit) over the elements of the parameters that have 8-bit states (where the
 * 32-bit v is positive): how the 8-bit run's second moment, which sets its effective step size
 * lr / sqrt(v), compares with the 32-bit run's at the end. */
static double second_moment_ratio(const bnb_optimizer* o8, const bnb_optimizer* o32) {
    int64_t count = 0;
    check(bnb_optimizer_param_count(o8, &count), "bnb_optimizer_param_count");
    double sum = 0.0;
    int64_t used = 0;
    for (int64_t i = 0; i < count; ++i) {
        bnb_param_info info;
        info.struct_size = sizeof info;
        check(bnb_optimizer_param_info(o8, i, &info), "bnb_optimizer_param_info");
        if (info.state_mode != BNB_STATE_MODE_8BIT_BLOCKWISE && info.state_mode != BNB_STATE_MODE_8BIT_TENSORWISE) continue;
        float* v8 = alloc_floats((size_t)info.numel);
        float* v32 = alloc_floats((size_t)info.numel);
        check(bnb_optimizer_copy_state(o8, i, BNB_STATE2, v8, info.numel), "bnb_optimizer_copy_state");
        check(bnb_optimizer_copy_state(o32, i, BNB_STATE2, v32, info.numel), "bnb_optimizer_copy_state");
        for (int64_t k = 0; k < info.numel; ++k) {
            if (v32[k] > 0.0f) {
                sum += sqrt((double)v8[k] / (double)v32[k]);
                ++used;
            }
        }
        free(v8);
        free(v32);
    }
    return used > 0 ? sum / (double)used : NAN;
}

static void print_results(const outcome* out, const run* r8, const run* r32, int64_t steps) {
    const int64_t bytes8 = state_bytes(r8->opt), bytes32 = state_bytes(r32->opt);
    int64_t tensors8 = 0, elements8 = 0;
    count_8bit(r8->opt, &tensors8, &elements8);

    printf("\nresults after %lld step%s (%.1f s for both runs, evaluations included)\n", (long long)steps,
           steps == 1 ? "" : "s", out->seconds);
    printf("  %-24s %14s %14s\n", "", "8-bit", "32-bit");
    printf("  %-24s %14.6f %14.6f   8-bit %+.2f %% relative to 32-bit\n", "final held-out loss",
           out->loss8, out->loss32, 100.0 * relative_gap(out->loss8, out->loss32));
    printf("  %-24s %13.1fx %13.1fx   from %.6f at step 0\n", "loss reduction",
           out->initial_loss / out->loss8, out->initial_loss / out->loss32, out->initial_loss);
    printf("  %-24s %14lld %14lld   8-bit = %.1f %% of 32-bit\n", "optimizer state bytes",
           (long long)bytes8, (long long)bytes32, 100.0 * (double)bytes8 / (double)bytes32);
    printf("  %-24s %14.3f %14.3f   timed around bnb_step() only\n", "average step time (ms)",
           step_ms(r8), step_ms(r32));
    printf("  8-bit states hold %lld of %d tensors (%lld elements); the rest are smaller than\n"
           "  min_8bit_size and keep fp32 states in both runs\n",
           (long long)tensors8, 2 * r8->net.n_layers, (long long)elements8);
    printf("  second moment in those tensors: mean sqrt(v) of the 8-bit run / the 32-bit run = %.3f\n",
           second_moment_ratio(r8->opt, r32->opt));
}

/* One PASS/FAIL line; returns 1 when it passed. A NaN fails, as every comparison with NaN is false. */
static int report_check(int passed, const char* text) {
    printf("%s  %s\n", passed ? "PASS" : "FAIL", text);
    return passed;
}

static int run_checks(const outcome* out, const run* r8, const run* r32) {
    const double gap = relative_gap(out->loss8, out->loss32);
    const double ratio = (double)state_bytes(r8->opt) / (double)state_bytes(r32->opt);
    char text[160];
    int ok = 1;
    printf("\n");
    snprintf(text, sizeof text, "8-bit final held-out loss within %.0f %% of 32-bit (%+.2f %%)",
             100.0 * MAX_LOSS_GAP, 100.0 * gap);
    ok &= report_check(fabs(gap) <= MAX_LOSS_GAP, text);
    snprintf(text, sizeof text, "8-bit optimizer state at most %.0f %% of the 32-bit bytes (%.1f %%)",
             100.0 * MAX_STATE_RATIO, 100.0 * ratio);
    ok &= report_check(ratio <= MAX_STATE_RATIO, text);
    return ok;
}

/* ================================================================================================ */
/* Main                                                                                             */
/* ================================================================================================ */

int main(int argc, char** argv) {
    const options opt = parse_options(argc, argv);

    task t;
    task_init(&t, opt.seed);
    mlp initial;
    student_init(&initial, opt.seed);
    run r8, r32;
    run_init(&r8, "8-bit", 8, &initial);
    run_init(&r32, "32-bit", 32, &initial);

    print_header(&opt, &initial, &r8);
    const outcome out = train_side_by_side(&t, &r8, &r32, &initial, opt.steps, opt.cosine);
    print_results(&out, &r8, &r32, opt.steps);
    const int ok = run_checks(&out, &r8, &r32);

    run_free(&r8);
    run_free(&r32);
    mlp_free(&initial);
    task_free(&t);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
