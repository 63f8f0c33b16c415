/**
 * The device policy: no device reaches an environment unless the manifest
 * asks for it ([hardware] gpu, audio) and the policy allows it. A device
 * that is asked for but absent on this host is a warning, not an error: the
 * same manifest must work on a laptop and on a headless build machine.
 */
import { RuntimeError } from "../../errors.ts";
import type { NormalizedManifest } from "../../schema/types.ts";
import type { HostFs } from "../host/host-fs.ts";
import type { SecurityPolicy } from "./security-policy.ts";

export const GPU_DEVICE_DIR = "/dev/dri";
export const SOUND_DEVICE_DIR = "/dev/snd";
/** NVIDIA's proprietary driver exposes its devices beside /dev/dri, not in it. */
const NVIDIA_CONTROL_DEVICES = ["/dev/nvidiactl", "/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"];

export interface DevicePlan {
  devices: string[];
  warnings: string[];
}

/** Refuses hardware the policy does not allow (the reference's validate_devices). */
export function checkDevicePolicy(manifest: NormalizedManifest, policy: SecurityPolicy): void {
  if (manifest.hardware_gpu && !policy.allowGpu) {
    throw new RuntimeError("GPU access (hardware.gpu) is not allowed by the security policy", { hint: "remove hardware.gpu from the manifest" });
  }
  if (manifest.hardware_audio && !policy.allowAudio) {
    throw new RuntimeError("audio access (hardware.audio) is not allowed by the security policy", { hint: "remove hardware.audio from the manifest" });
  }
}

export function planDevices(manifest: NormalizedManifest, policy: SecurityPolicy, fs: HostFs): DevicePlan {
  checkDevicePolicy(manifest, policy);
  const devices: string[] = [];
  const warnings: string[] = [];
  if (manifest.hardware_gpu) {
    if (fs.kind(GPU_DEVICE_DIR) === "dir") devices.push(GPU_DEVICE_DIR);
    const nvidia = fs
      .list("/dev")
      .filter((name) => /^nvidia\d+$/.test(name))
      .sort()
      .map((name) => `/dev/${name}`);
    for (const dev of [...nvidia, ...NVIDIA_CONTROL_DEVICES]) if (fs.kind(dev) === "char-device") devices.push(dev);
    if (devices.length === 0) warnings.push(`hardware.gpu: this host has no GPU device (${GPU_DEVICE_DIR} is missing); running without GPU access`);
  }
  if (manifest.hardware_audio) {
    if (fs.kind(SOUND_DEVICE_DIR) === "dir") devices.push(SOUND_DEVICE_DIR);
    else warnings.push(`hardware.audio: this host has no sound devices (${SOUND_DEVICE_DIR} is missing); sound servers are still shared if they run`);
  }
  return { devices, warnings };
}
