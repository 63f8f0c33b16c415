//! Merkle digest of a directory tree (format: docs/tree-digest.md).
//!
//! Entries arrive as serialized records in depth-first pre-order, children of a
//! directory sorted by name bytes. Each directory is hashed over the records of
//! its children; a child directory contributes its own digest, so equal
//! subtrees have equal digests wherever they sit.

const std = @import("std");
const blake3 = @import("blake3.zig");

pub const DOMAIN = "karapace-tree-v1\x00";

pub const Error = error{
    Truncated,
    BadKind,
    BadPath,
    OutOfOrder,
    OutOfMemory,
};

const Frame = struct {
    hasher: blake3.Hasher,
    /// Length of this directory's path in `Tree.path`.
    path_len: usize,
    mode: u32,
    last_name: [256]u8 = undefined,
    last_name_len: usize = 0,
    has_child: bool = false,
};

fn newHasher() blake3.Hasher {
    var h = blake3.Hasher.init();
    h.update(DOMAIN);
    return h;
}

pub const Tree = struct {
    allocator: std.mem.Allocator,
    frames: std.ArrayListUnmanaged(Frame) = .{},
    /// Path of the deepest open directory; every open frame's path is a prefix of it.
    path: std.ArrayListUnmanaged(u8) = .{},
    entries: u64 = 0,

    pub fn init(allocator: std.mem.Allocator) Error!Tree {
        var t = Tree{ .allocator = allocator };
        try t.frames.append(allocator, .{ .hasher = newHasher(), .path_len = 0, .mode = 0 });
        return t;
    }

    pub fn deinit(self: *Tree) void {
        self.frames.deinit(self.allocator);
        self.path.deinit(self.allocator);
    }

    fn top(self: *Tree) *Frame {
        return &self.frames.items[self.frames.items.len - 1];
    }

    fn writeRecord(h: *blake3.Hasher, kind: u8, mode: u32, size: u64, name: []const u8) void {
        var head: [1 + 4 + 8 + 4]u8 = undefined;
        head[0] = kind;
        std.mem.writeInt(u32, head[1..5], mode, .little);
        std.mem.writeInt(u64, head[5..13], size, .little);
        std.mem.writeInt(u32, head[13..17], @intCast(name.len), .little);
        h.update(&head);
        h.update(name);
    }

    fn closeTop(self: *Tree) void {
        const closing = self.frames.pop().?;
        var digest: [32]u8 = undefined;
        closing.hasher.finalize(&digest);
        const parent = self.top();
        const name = self.path.items[if (parent.path_len == 0) 0 else parent.path_len + 1 .. closing.path_len];
        writeRecord(&parent.hasher, 'd', closing.mode, 0, name);
        parent.hasher.update(&digest);
        self.path.shrinkRetainingCapacity(parent.path_len);
    }

    fn parentMatchesTop(self: *Tree, parent: []const u8) bool {
        const t = self.top();
        return t.path_len == parent.len and std.mem.eql(u8, self.path.items[0..t.path_len], parent);
    }

    fn addOne(self: *Tree, kind: u8, mode: u32, size: u64, path: []const u8, payload: []const u8) Error!void {
        if (path.len == 0 or path[0] == '/' or path[path.len - 1] == '/') return Error.BadPath;
        const slash = std.mem.lastIndexOfScalar(u8, path, '/');
        const parent = if (slash) |i| path[0..i] else "";
        const name = if (slash) |i| path[i + 1 ..] else path;
        if (name.len == 0 or name.len > 255) return Error.BadPath;
        if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..")) return Error.BadPath;

        while (!self.parentMatchesTop(parent)) {
            if (self.frames.items.len == 1) return Error.OutOfOrder;
            self.closeTop();
        }
        const t = self.top();
        if (t.has_child and std.mem.order(u8, t.last_name[0..t.last_name_len], name) != .lt) return Error.OutOfOrder;
        @memcpy(t.last_name[0..name.len], name);
        t.last_name_len = name.len;
        t.has_child = true;
        self.entries += 1;

        switch (kind) {
            'd' => {
                if (parent.len > 0) try self.path.append(self.allocator, '/');
                try self.path.appendSlice(self.allocator, name);
                try self.frames.append(self.allocator, .{ .hasher = newHasher(), .path_len = self.path.items.len, .mode = mode });
            },
            'f', 'l', 'p', 's', 'c', 'b' => {
                writeRecord(&t.hasher, kind, mode, size, name);
                if (kind == 'l') {
                    var len: [4]u8 = undefined;
                    std.mem.writeInt(u32, &len, @intCast(payload.len), .little);
                    t.hasher.update(&len);
                }
                t.hasher.update(payload);
            },
            else => return Error.BadKind,
        }
    }

    /// Consumes whole records: u8 kind, u32le mode, u64le size, u32le path length, path,
    /// then 32 content-hash bytes for 'f' or u32le length + target for 'l'.
    pub fn feed(self: *Tree, buf: []const u8) Error!void {
        var r = Reader{ .rest = buf };
        while (r.rest.len > 0) {
            const kind = (try r.take(1))[0];
            const mode = std.mem.readInt(u32, (try r.take(4))[0..4], .little) & 0o7777;
            const size = std.mem.readInt(u64, (try r.take(8))[0..8], .little);
            const path_len = std.mem.readInt(u32, (try r.take(4))[0..4], .little);
            const path = try r.take(path_len);
            const payload: []const u8 = switch (kind) {
                'f' => try r.take(32),
                'l' => try r.take(std.mem.readInt(u32, (try r.take(4))[0..4], .little)),
                else => "",
            };
            try self.addOne(kind, mode, size, path, payload);
        }
    }

    pub fn finish(self: *Tree, out: *[32]u8) void {
        while (self.frames.items.len > 1) self.closeTop();
        self.top().hasher.finalize(out);
    }
};

const Reader = struct {
    rest: []const u8,

    fn take(self: *Reader, n: usize) Error![]const u8 {
        if (self.rest.len < n) return Error.Truncated;
        const s = self.rest[0..n];
        self.rest = self.rest[n..];
        return s;
    }
};
