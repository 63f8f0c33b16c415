//! The WebAssembly face of the hot paths. JavaScript owns all I/O and passes
//! byte ranges of this module's memory; handles are pointers to heap objects.
//! Fallible calls return a negative `Code` on failure (see wasm/codes.ts).

const std = @import("std");
const blake3 = @import("blake3.zig");
const tar = @import("tar.zig");
const tree = @import("tree.zig");

const allocator = std.heap.wasm_allocator;

const Code = enum(i32) {
    out_of_memory = -1,
    bad_kind = -2,
    empty_path = -3,
    output_too_small = -4,
    data_overflow = -5,
    data_missing = -6,
    bad_xattrs = -7,
    truncated = -8,
    bad_path = -9,
    out_of_order = -10,
    not_a_subtree = -11,
};

fn code(err: anyerror) i32 {
    const c: Code = switch (err) {
        error.OutOfMemory => .out_of_memory,
        error.BadKind => .bad_kind,
        error.EmptyPath => .empty_path,
        error.OutputTooSmall => .output_too_small,
        error.DataOverflow => .data_overflow,
        error.DataMissing => .data_missing,
        error.BadXattrs => .bad_xattrs,
        error.Truncated => .truncated,
        error.BadPath => .bad_path,
        error.OutOfOrder => .out_of_order,
        else => .bad_kind,
    };
    return @intFromEnum(c);
}

fn bytes(ptr: [*]const u8, len: usize) []const u8 {
    return if (len == 0) &.{} else ptr[0..len];
}

// ---------------------------------------------------------------- memory

export fn kp_alloc(len: usize) ?[*]u8 {
    const s = allocator.alloc(u8, len) catch return null;
    return s.ptr;
}

export fn kp_free(ptr: [*]u8, len: usize) void {
    allocator.free(ptr[0..len]);
}

// ---------------------------------------------------------------- blake3

export fn b3_new() ?*blake3.Hasher {
    const h = allocator.create(blake3.Hasher) catch return null;
    h.* = blake3.Hasher.init();
    return h;
}

export fn b3_new_keyed(key: [*]const u8) ?*blake3.Hasher {
    const h = allocator.create(blake3.Hasher) catch return null;
    h.* = blake3.Hasher.initKeyed(key[0..32]);
    return h;
}

export fn b3_new_derive_key(context: [*]const u8, len: usize) ?*blake3.Hasher {
    const h = allocator.create(blake3.Hasher) catch return null;
    h.* = blake3.Hasher.initDeriveKey(bytes(context, len));
    return h;
}

export fn b3_update(h: *blake3.Hasher, ptr: [*]const u8, len: usize) void {
    h.update(bytes(ptr, len));
}

export fn b3_finalize(h: *const blake3.Hasher, out: [*]u8, out_len: usize) void {
    h.finalize(out[0..out_len]);
}

export fn b3_reset(h: *blake3.Hasher) void {
    h.reset();
}

export fn b3_free(h: *blake3.Hasher) void {
    allocator.destroy(h);
}

/// Chaining value of an aligned power-of-two run of whole chunks, written as
/// 32 bytes to `out`; returns 0, or -11 when the run is not such a subtree.
export fn b3_subtree_cv(ptr: [*]const u8, len: usize, counter: f64, out: [*]u8) i32 {
    const cv = blake3.subtreeCv(bytes(ptr, len), @intFromFloat(counter)) orelse return -11;
    for (0..8) |i| std.mem.writeInt(u32, out[i * 4 ..][0..4], cv[i], .little);
    return 0;
}

/// Appends a subtree computed elsewhere (see b3_subtree_cv) to a hasher.
export fn b3_push_subtree(h: *blake3.Hasher, cv_ptr: [*]const u8, n_chunks: f64) i32 {
    var cv: [8]u32 = undefined;
    for (0..8) |i| cv[i] = std.mem.readInt(u32, cv_ptr[i * 4 ..][0..4], .little);
    return if (h.pushSubtree(cv, @intFromFloat(n_chunks))) 0 else -11;
}

/// Hashes `count` inputs laid end to end at `data`, their lengths at `lens`,
/// writing 32 bytes per input to `out`: many small hashes, one boundary crossing.
export fn b3_hash_many(data: [*]const u8, lens: [*]const u32, count: usize, out: [*]u8) void {
    var off: usize = 0;
    for (0..count) |i| {
        const n = lens[i];
        blake3.hash(bytes(data + off, n), out[i * 32 ..][0..32]);
        off += n;
    }
}

// ---------------------------------------------------------------- tar

export fn tar_new() ?*tar.Writer {
    const w = allocator.create(tar.Writer) catch return null;
    w.* = .{};
    return w;
}

export fn tar_free(w: *tar.Writer) void {
    allocator.destroy(w);
}

/// Size travels as f64: exact for every size below 2^53 bytes.
export fn tar_header(
    w: *tar.Writer,
    kind: u32,
    mode: u32,
    size: f64,
    path: [*]const u8,
    path_len: usize,
    link: [*]const u8,
    link_len: usize,
    xattrs: [*]const u8,
    xattrs_len: usize,
    out: [*]u8,
    out_cap: usize,
) i32 {
    if (!(size >= 0 and size < 9007199254740992.0)) return @intFromEnum(Code.data_overflow);
    const n = w.header(kind, mode, @intFromFloat(size), bytes(path, path_len), bytes(link, link_len), bytes(xattrs, xattrs_len), out[0..out_cap]) catch |e| return code(e);
    return @intCast(n);
}

export fn tar_data(w: *tar.Writer, ptr: [*]const u8, len: usize) i32 {
    const z = w.data(bytes(ptr, len)) catch |e| return code(e);
    return @intCast(z);
}

export fn tar_end_entry(w: *tar.Writer, out: [*]u8, out_cap: usize) i32 {
    const n = w.endEntry(out[0..out_cap]) catch |e| return code(e);
    return @intCast(n);
}

export fn tar_finish(w: *tar.Writer, out: [*]u8, out_cap: usize) i32 {
    const n = w.finish(out[0..out_cap]) catch |e| return code(e);
    return @intCast(n);
}

// ---------------------------------------------------------------- tree digest

export fn tree_new() ?*tree.Tree {
    const t = allocator.create(tree.Tree) catch return null;
    t.* = tree.Tree.init(allocator) catch {
        allocator.destroy(t);
        return null;
    };
    return t;
}

export fn tree_feed(t: *tree.Tree, ptr: [*]const u8, len: usize) i32 {
    t.feed(bytes(ptr, len)) catch |e| return code(e);
    return 0;
}

export fn tree_finish(t: *tree.Tree, out: [*]u8) void {
    t.finish(out[0..32]);
}

export fn tree_free(t: *tree.Tree) void {
    t.deinit();
    allocator.destroy(t);
}

test {
    _ = blake3;
    _ = tar;
    _ = tree;
}
