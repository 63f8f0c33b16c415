//! Builds wasm/karapace.wasm. Pinned to Zig 0.15.2 (PyPI `ziglang==0.15.2`);
//! the output is byte-for-byte reproducible, and CI checks that it is.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const wasm_target = b.resolveTargetQuery(.{
        .cpu_arch = .wasm32,
        .os_tag = .freestanding,
        .cpu_model = .{ .explicit = &std.Target.wasm.cpu.mvp },
        .cpu_features_add = std.Target.wasm.featureSet(&.{
            .simd128,
            .bulk_memory,
            .sign_ext,
            .nontrapping_fptoint,
            .mutable_globals,
        }),
    });

    const module = b.createModule(.{
        .root_source_file = b.path("src/root.zig"),
        .target = wasm_target,
        .optimize = .ReleaseFast,
        .strip = true,
    });
    const exe = b.addExecutable(.{ .name = "karapace", .root_module = module });
    exe.entry = .disabled;
    exe.rdynamic = true;
    b.installArtifact(exe);

    // Unit tests of the same sources on the host.
    const host_tests = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("src/tests.zig"),
        .target = b.graph.host,
        .optimize = .Debug,
    }) });
    const run_tests = b.addRunArtifact(host_tests);
    b.step("test", "Run the Zig unit tests on the host").dependOn(&run_tests.step);
}
