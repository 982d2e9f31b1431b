/* Zero-copy state views, per-parameter state import, and block-wise quantization with any map and
 * block size: the C API the language bindings are built on.
 *  - a view's codes/values, absmax and map give exactly bnb_optimizer_copy_state()'s values; writing
 *    through it changes the optimizer; its pointers survive a load of the same layout;
 *  - a state read through views (and the clipping history) and imported into a second optimizer
 *    reproduces the first one byte for byte, and bad imports (mode, count, buffers, map, absmax, clipping history) change nothing;
 *  - bnb_quantize_blockwise_ex() equals the spec's select rule for block sizes 64, 100 and 4096, and a
 *    custom map; invalid maps and block sizes are rejected. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/family.h"
#include "support/optim_helpers.h"
#include "support/refusal.h"
#include "support/spec_driver.h"

static bnb_state_view view_of(bnb_optimizer* opt, int64_t index, int state) {
    bnb_state_view v;
    memset(&v, 0, sizeof v);
    v.struct_size = sizeof v;
    assert_int_equal(bnb_optimizer_state_view(opt, index, state, &v), BNB_OK);
    return v;
}

/* Dequantizes a view the way the specification does. */
static float view_value(const bnb_state_view* v, int64_t i) {
    if (v->bits == 32) return ((const float*)v->data)[i];
    const int64_t row = i / v->numel, col = i % v->numel;
    const int64_t block = v->absmax_per_row == 1 ? 0 : col / 256;
    const float absmax = v->absmax[row * v->absmax_per_row + block];
    return absmax == 0.0f ? 0.0f : v->qmap[((const uint8_t*)v->data)[i]] * absmax;
}

typedef struct fixture {
    bnb_optimizer* opt;
    test_buffer p, g;
} fixture;

static void fixture_init(fixture* f, int family, int bits, int block_wise, int clip) {
    int count = 0;
    spec_config c = family_spec_config(&family_cases(&count)[family].config);
    c.percentile_clipping = clip;
    f->opt = family_optimizer(&c, bits, block_wise);
    f->p = buffer_alloc(3000, BNB_DTYPE_F32);
    f->g = buffer_alloc(3000, BNB_DTYPE_F32);
    test_rng rng;
    rng_seed(&rng, 1);
    fill_normal(&rng, &f->p, 0.1);
    add_param(f->opt, &f->p, &f->g);
    for (int step = 0; step < 3; ++step) {
        fill_normal(&rng, &f->g, 0.01);
        assert_int_equal(bnb_step(f->opt), BNB_OK);
    }
}

static void fixture_free(fixture* f) {
    bnb_optimizer_destroy(f->opt);
    buffer_free(&f->p);
    buffer_free(&f->g);
}

static void views_match_copy_state(void** state) {
    (void)state;
    const int modes[3][2] = {{32, 1}, {8, 1}, {8, 0}};
    for (int m = 0; m < 3; ++m) {
        fixture f;
        fixture_init(&f, 9 /* ademamix: two rows in state1 */, modes[m][0], modes[m][1], 100);
        for (int s = 1; s <= 2; ++s) {
            const bnb_state_view v = view_of(f.opt, 0, s);
            assert_int_equal(v.rows, s == 1 ? 2 : 1);
            assert_int_equal(v.numel, 3000);
            assert_int_equal(v.bits, modes[m][0]);
            assert_non_null(v.data);
            float* values = read_state(f.opt, 0, s, v.rows * v.numel);
            for (int64_t i = 0; i < v.rows * v.numel; ++i) {
                assert_int_equal(f32_to_bits(view_value(&v, i)), f32_to_bits(values[i]));
            }
            free(values);
        }
        /* Writing through a view changes the optimizer's state. */
        bnb_state_view v = view_of(f.opt, 0, 2);
        if (v.bits == 32) ((float*)v.data)[7] = 42.0f;
        else v.absmax[0] = 0.0f;
        float* values = read_state(f.opt, 0, 2, 3000);
        assert_true(v.bits == 32 ? values[7] == 42.0f : values[7] == 0.0f);
        free(values);
        fixture_free(&f);
    }
    /* Before the first step: the mode says so and there are no buffers. */
    bnb_optimizer* opt = make_optimizer(BNB_ALGO_ADAM, 8, 1, 1e-3, -1, 0);
    test_buffer p = buffer_alloc(10, BNB_DTYPE_F32);
    add_param(opt, &p, NULL);
    bnb_state_view v = view_of(opt, 0, 1);
    assert_int_equal(v.mode, BNB_STATE_MODE_NONE);
    assert_null(v.data);
    assert_int_equal(bnb_optimizer_state_view(opt, 0, 3, &v), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_optimizer_state_view(opt, 1, 1, &v), BNB_ERR_INVALID_ARGUMENT);
    v.struct_size = 8;
    assert_int_equal(bnb_optimizer_state_view(opt, 0, 1, &v), BNB_ERR_VERSION);
    assert_int_equal(bnb_optimizer_state_view(opt, 0, 1, NULL), BNB_ERR_INVALID_ARGUMENT);
    bnb_optimizer_destroy(opt);
    buffer_free(&p);
}

/* Note [stable state buffers]: a load of the same layout writes into the same buffers. */
static void views_survive_a_load(void** state) {
    (void)state;
    fixture a, b;
    fixture_init(&a, 0, 8, 1, 100);
    fixture_init(&b, 0, 8, 1, 100);
    assert_int_equal(bnb_step(b.opt), BNB_OK); /* b differs from a */
    const bnb_state_view before = view_of(b.opt, 0, 1);
    size_t size = 0;
    unsigned char* bytes = serialize_state(a.opt, &size);
    assert_int_equal(bnb_state_load_from_buffer(b.opt, bytes, size), BNB_OK);
    const bnb_state_view after = view_of(b.opt, 0, 1);
    assert_ptr_equal(before.data, after.data);
    assert_ptr_equal(before.absmax, after.absmax);
    const bnb_state_view reference = view_of(a.opt, 0, 1);
    assert_memory_equal(after.data, reference.data, 3000);
    free(bytes);
    fixture_free(&a);
    fixture_free(&b);
}

/* Reads every state of parameter 0 through views into an import description. */
static bnb_param_state exported(bnb_optimizer* opt, bnb_state_view views[2]) {
    bnb_param_state s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    const bnb_param_info info = param_info(opt, 0);
    s.step = info.step;
    s.mode = info.state_mode;
    s.num_states = info.num_states;
    for (int k = 0; k < info.num_states; ++k) {
        views[k] = view_of(opt, 0, k + 1);
        s.data[k] = views[k].data;
        s.absmax[k] = views[k].absmax;
        s.qmap[k] = views[k].qmap;
    }
    return s;
}

static void import_round_trips(void** state) {
    (void)state;
    const int modes[3][2] = {{32, 1}, {8, 1}, {8, 0}};
    for (int family = 0; family < 10; ++family) {
        for (int m = 0; m < 3; ++m) {
            fixture a, b;
            fixture_init(&a, family, modes[m][0], modes[m][1], 100);
            int count = 0;
            spec_config c = family_spec_config(&family_cases(&count)[family].config);
            b.opt = family_optimizer(&c, modes[m][0], modes[m][1]);
            b.p = buffer_alloc(3000, BNB_DTYPE_F32);
            b.g = buffer_alloc(3000, BNB_DTYPE_F32);
            add_param(b.opt, &b.p, &b.g);
            bnb_state_view views[2];
            const bnb_param_state s = exported(a.opt, views);
            assert_int_equal(bnb_optimizer_import_param_state(b.opt, 0, &s), BNB_OK);
            size_t na = 0, nb = 0;
            unsigned char* x = serialize_state(a.opt, &na);
            unsigned char* y = serialize_state(b.opt, &nb);
            assert_int_equal(na, nb);
            assert_memory_equal(x, y, na);
            free(x);
            free(y);
            fixture_free(&a);
            fixture_free(&b);
        }
    }
}

/* The clipping history read with bnb_optimizer_copy_clip_history() completes an export: imported with
 * the states into a fresh optimizer, it reproduces the first one byte for byte (the history shapes
 * later clipping scales, so it is part of the checkpoint). */
static void clip_history_round_trips(void** state) {
    (void)state;
    fixture a, b;
    fixture_init(&a, 0, 8, 1, 5);
    int count = 0;
    spec_config c = family_spec_config(&family_cases(&count)[0].config);
    c.percentile_clipping = 5;
    b.opt = family_optimizer(&c, 8, 1);
    b.p = buffer_alloc(3000, BNB_DTYPE_F32);
    b.g = buffer_alloc(3000, BNB_DTYPE_F32);
    add_param(b.opt, &b.p, &b.g);
    float history[100];
    assert_int_equal(bnb_optimizer_copy_clip_history(a.opt, 0, history, 100), BNB_OK);
    assert_true(history[0] > 0.0f);
    bnb_state_view views[2];
    bnb_param_state s = exported(a.opt, views);
    s.clip_history = history;
    assert_int_equal(bnb_optimizer_import_param_state(b.opt, 0, &s), BNB_OK);
    size_t na = 0, nb = 0;
    unsigned char* x = serialize_state(a.opt, &na);
    unsigned char* y = serialize_state(b.opt, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);

    assert_int_equal(bnb_optimizer_copy_clip_history(a.opt, 0, history, 99), BNB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bnb_last_error_message(), "dst_count = 99"));
    assert_int_equal(bnb_optimizer_copy_clip_history(a.opt, 0, NULL, 100), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_optimizer_copy_clip_history(a.opt, 1, history, 100), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_optimizer_copy_clip_history(NULL, 0, history, 100), BNB_ERR_INVALID_ARGUMENT);
    fixture_free(&a);
    fixture_free(&b);

    fixture off;  /* clipping off: no history to copy */
    fixture_init(&off, 0, 8, 1, 100);
    assert_int_equal(bnb_optimizer_copy_clip_history(off.opt, 0, history, 100), BNB_ERR_INVALID_STATE);
    assert_non_null(strstr(bnb_last_error_message(), "no clipping history"));
    fixture_free(&off);
}

static void expect_import_fails(bnb_optimizer* opt, const bnb_param_state* s, bnb_status expected, const char* needle) {
    refusal_snapshot before;
    assert_int_equal(refusal_snapshot_take(opt, &before), 0);
    const bnb_status got = bnb_optimizer_import_param_state(opt, 0, s);
    assert_refused(&before, opt, got, (int)expected, needle);
    refusal_snapshot_free(&before);
}

static void bad_imports_change_nothing(void** state) {
    (void)state;
    fixture a, b;
    fixture_init(&a, 0, 8, 1, 100);
    fixture_init(&b, 0, 8, 1, 100);
    assert_int_equal(bnb_step(b.opt), BNB_OK);
    bnb_state_view views[2];
    const bnb_param_state good = exported(a.opt, views);
    bnb_param_state s = good;
    s.mode = BNB_STATE_MODE_32BIT;
    expect_import_fails(b.opt, &s, BNB_ERR_INVALID_ARGUMENT, "state codec mismatch");
    s = good;
    s.num_states = 1;
    expect_import_fails(b.opt, &s, BNB_ERR_INVALID_ARGUMENT, "has 1 states");
    s = good;
    s.data[1] = NULL;
    expect_import_fails(b.opt, &s, BNB_ERR_INVALID_ARGUMENT, "codes or absmax missing");
    s = good;
    s.step = 0;
    expect_import_fails(b.opt, &s, BNB_ERR_BAD_FORMAT, "inconsistent");
    s = good;
    s.mode = 9;
    expect_import_fails(b.opt, &s, BNB_ERR_INVALID_ARGUMENT, "not a bnb_state_mode");
    s = good;
    float map[256];
    memcpy(map, good.qmap[0], sizeof map);
    map[200] = map[199];
    s.qmap[0] = map;
    expect_import_fails(b.opt, &s, BNB_ERR_BAD_FORMAT, "not strictly increasing");
    s = good;
    float* absmax = malloc(sizeof(float) * 12);
    memcpy(absmax, good.absmax[1], sizeof(float) * 12);
    absmax[5] = -1.0f;
    s.absmax[1] = absmax;
    expect_import_fails(b.opt, &s, BNB_ERR_BAD_FORMAT, "absmax[5] = -1");
    absmax[5] = NAN;
    expect_import_fails(b.opt, &s, BNB_ERR_BAD_FORMAT, "absmax[5] = nan");
    free(absmax);
    s = good;
    float history[100] = {0};
    s.clip_history = history;
    expect_import_fails(b.opt, &s, BNB_ERR_INVALID_ARGUMENT, "clipping history");
    s = good;
    s.struct_size = 16;
    expect_import_fails(b.opt, &s, BNB_ERR_VERSION, "struct_size");
    assert_int_equal(bnb_optimizer_import_param_state(b.opt, 0, NULL), BNB_ERR_INVALID_ARGUMENT);
    assert_int_equal(bnb_optimizer_import_param_state(b.opt, 4, &good), BNB_ERR_INVALID_ARGUMENT);
    fixture_free(&a);
    fixture_free(&b);
}

static void quantize_any_block_size_and_map(void** state) {
    (void)state;
    const int64_t n = 5000;
    float* x = malloc(sizeof(float) * (size_t)n);
    uint8_t* codes = malloc((size_t)n);
    float* absmax = malloc(sizeof(float) * (size_t)n);
    float* back = malloc(sizeof(float) * (size_t)n);
    test_rng rng;
    rng_seed(&rng, 4);
    for (int64_t i = 0; i < n; ++i) x[i] = (float)(rng_normal(&rng) * pow(10.0, (double)(i % 7) - 3.0));
    float maps[3][256];
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_SIGNED, maps[0]), BNB_OK);
    assert_int_equal(bnb_qmap_copy(BNB_QMAP_UNSIGNED, maps[1]), BNB_OK);
    for (int i = 0; i < 256; ++i) maps[2][i] = -1.0f + (float)i * (2.0f / 255.0f); /* a linear signed map... */
    maps[2][127] = 0.0f;                                                            /* ...with +0.0 */
    const int64_t block_sizes[] = {64, 100, 4096};
    for (int k = 0; k < 3; ++k) {
        for (int b = 0; b < 3; ++b) {
            const int64_t bs = block_sizes[b];
            bnb_tensor src = {x, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
            if (k == 1) {
                for (int64_t i = 0; i < n; ++i) x[i] = fabsf(x[i]);
            }
            assert_int_equal(bnb_quantize_blockwise_ex(maps[k], &src, bs, codes, absmax), BNB_OK);
            for (int64_t begin = 0, block = 0; begin < n; begin += bs, ++block) {
                const int64_t end = begin + bs < n ? begin + bs : n;
                float a = 0.0f;
                for (int64_t i = begin; i < end; ++i) a = fmaxf(a, fabsf(x[i]));
                assert_true(absmax[block] == a);
                for (int64_t i = begin; i < end; ++i) {
                    uint8_t c = spec_select(maps[k], x[i] * (1.0f / a));
                    if (maps[k][0] < 0 && (signbit(maps[k][c]) != 0) != (signbit(x[i]) != 0)) c = (uint8_t)(x[i] > 0 ? c + 1 : c - 1);
                    if (codes[i] != c) fail_msg("map %d block %lld: x[%lld] -> %d, spec %d", k, (long long)bs, (long long)i, codes[i], c);
                }
            }
            bnb_tensor dst = {back, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
            assert_int_equal(bnb_dequantize_blockwise_ex(maps[k], codes, absmax, bs, &dst), BNB_OK);
            for (int64_t i = 0; i < n; ++i) assert_true(back[i] == maps[k][codes[i]] * absmax[i / bs]);
        }
    }
    bnb_tensor src = {x, n, BNB_DTYPE_F32, BNB_DEVICE_CPU};
    assert_int_equal(bnb_quantize_blockwise_ex(maps[0], &src, 0, codes, absmax), BNB_ERR_INVALID_ARGUMENT);
    maps[2][10] = maps[2][9];
    assert_int_equal(bnb_quantize_blockwise_ex(maps[2], &src, 64, codes, absmax), BNB_ERR_BAD_FORMAT);
    assert_int_equal(bnb_quantize_blockwise_ex(NULL, &src, 64, codes, absmax), BNB_ERR_INVALID_ARGUMENT);
    free(x);
    free(codes);
    free(absmax);
    free(back);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(views_match_copy_state),
        cmocka_unit_test(views_survive_a_load),
        cmocka_unit_test(import_round_trips),
        cmocka_unit_test(clip_history_round_trips),
        cmocka_unit_test(bad_imports_change_nothing),
        cmocka_unit_test(quantize_any_block_size_and_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
