// The trainer's binding to PyTorch's own c10d: the TCPStore rendezvous and the Gloo process group that
// torch.distributed and DDP use, called from Java through JNI (dev.goodput.trainer.distributed.C10d).
//
// The library is linked against libtorch_cpu.so and libc10.so by soname, without an rpath, and loaded after DJL has
// loaded its engine: the dynamic linker then binds it to the libtorch DJL already mapped, so the tensors it reduces
// are DJL's tensors (a PtNDArray's handle is a torch::Tensor*) and there is one libtorch in the process.
//
// Every collective is synchronous from Java's point of view: it returns when the result is in the tensors, or throws
// (a peer that closed its connection, or the process group's timeout).

#include <jni.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GOODPUT_NCCL
// The CUDA build (build.sh --nccl, inside the CUDA image): NCCL for CUDA tensors, as DDP uses on GPUs.
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;  // Gloo, or NCCL in the CUDA build
  std::chrono::milliseconds timeout;
  at::Device device;                          // where the few values of reduceValues live: CPU, or NCCL's GPU
};

// c10::Error's what() carries a C++ backtrace; the message a user reads is the part before it.
std::string message(const std::exception& e) {
  if (auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

void throwJava(JNIEnv* env, const std::string& message) {
  jclass cls = env->FindClass("dev/goodput/trainer/distributed/CollectiveFailure");
  if (cls == nullptr) cls = env->FindClass("java/lang/IllegalStateException");
  env->ThrowNew(cls, message.c_str());
}

std::string str(JNIEnv* env, jstring s) {
  const char* chars = env->GetStringUTFChars(s, nullptr);
  std::string out(chars);
  env->ReleaseStringUTFChars(s, chars);
  return out;
}

std::vector<at::Tensor*> handles(JNIEnv* env, jlongArray array) {
  jsize n = env->GetArrayLength(array);
  std::vector<jlong> raw(n);
  env->GetLongArrayRegion(array, 0, n, raw.data());
  std::vector<at::Tensor*> out;
  out.reserve(n);
  for (jlong h : raw) out.push_back(reinterpret_cast<at::Tensor*>(h));
  return out;
}

// Consecutive tensors of one dtype and device, up to bucketBytes each (a tensor larger than that is a bucket alone),
// as DDP buckets its gradients: one collective per bucket instead of one per parameter.
std::vector<std::vector<at::Tensor*>> buckets(const std::vector<at::Tensor*>& tensors, int64_t bucketBytes) {
  std::vector<std::vector<at::Tensor*>> out;
  int64_t bytes = 0;
  for (at::Tensor* t : tensors) {
    int64_t size = t->numel() * static_cast<int64_t>(t->element_size());
    bool fits = !out.empty() && bytes + size <= bucketBytes && out.back().front()->scalar_type() == t->scalar_type()
        && out.back().front()->device() == t->device();
    if (!fits) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += size;
  }
  return out;
}

// One flat tensor per bucket (a single contiguous tensor is used in place), the collective on each, then the results
// copied back into the original tensors.
template <typename Launch>
void bucketed(Group* g, const std::vector<at::Tensor*>& tensors, int64_t bucketBytes, double divisor, Launch launch) {
  auto groups = buckets(tensors, bucketBytes);
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  flats.reserve(groups.size());
  for (auto& bucket : groups) {
    at::Tensor flat;
    if (bucket.size() == 1 && bucket[0]->is_contiguous()) {
      flat = *bucket[0];
    } else {
      std::vector<at::Tensor> views;
      views.reserve(bucket.size());
      for (at::Tensor* t : bucket) views.push_back(t->reshape({-1}));
      flat = at::cat(views);
    }
    flats.push_back(flat);
    std::vector<at::Tensor> one{flat};
    works.push_back(launch(one));
  }
  for (size_t i = 0; i < groups.size(); i++) {
    works[i]->wait(g->timeout);
    at::Tensor& flat = flats[i];
    if (divisor != 1.0) flat.div_(divisor);
    auto& bucket = groups[i];
    if (bucket.size() == 1 && flat.is_same(*bucket[0])) continue;
    int64_t offset = 0;
    for (at::Tensor* t : bucket) {
      int64_t n = t->numel();
      t->copy_(flat.narrow(0, offset, n).view(t->sizes()));
      offset += n;
    }
  }
}

c10d::ReduceOp reduceOp(jint op) {
  switch (op) {
    case 0: return c10d::ReduceOp::SUM;
    case 1: return c10d::ReduceOp::MAX;
    case 2: return c10d::ReduceOp::MIN;
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
  }
}

}  // namespace

extern "C" {

JNIEXPORT jstring JNICALL Java_dev_goodput_trainer_distributed_C10d_builtForTorch(JNIEnv* env, jclass) {
  return env->NewStringUTF(TORCH_VERSION);
}

// A TCPStore: rank 0 serves it at port, the others connect to host:port, retrying until timeoutMs; then the Gloo
// process group rendezvous through it. deviceHost: the address Gloo binds to ("" for the host's default address).
JNIEXPORT jboolean JNICALL Java_dev_goodput_trainer_distributed_C10d_hasNccl(JNIEnv*, jclass) {
#ifdef GOODPUT_NCCL
  return JNI_TRUE;
#else
  return JNI_FALSE;
#endif
}

// A TCPStore: rank 0 serves it at port, the others connect to host:port, retrying until timeoutMs; then the process
// group rendezvous through it: Gloo, binding to deviceInterface, or deviceHost ("" for the host's default address); or,
// with nccl, NCCL on CUDA device cudaDevice.
JNIEXPORT jlong JNICALL Java_dev_goodput_trainer_distributed_C10d_connect(JNIEnv* env, jclass, jstring host, jint port,
    jint rank, jint size, jlong timeoutMs, jstring deviceHost, jstring deviceInterface, jboolean nccl, jint cudaDevice) {
  try {
    auto timeout = std::chrono::milliseconds(timeoutMs);
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = rank == 0;
    opts.numWorkers = size;
    opts.waitWorkers = true;
    opts.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(str(env, host), opts);
    if (nccl) {
#ifdef GOODPUT_NCCL
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(cudaDevice));
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
      return reinterpret_cast<jlong>(new Group{store, pg, timeout,
          at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(cudaDevice))});
#else
      throw std::runtime_error("this c10d binding was built without NCCL (the CPU build); use the CUDA image");
#endif
    }
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    std::string iface = str(env, deviceInterface);
    std::string addr = str(env, deviceHost);
    options->devices.push_back(!iface.empty() ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
        : !addr.empty() ? c10d::ProcessGroupGloo::createDeviceForHostname(addr)
        : c10d::ProcessGroupGloo::createDefaultDevice());
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
    return reinterpret_cast<jlong>(new Group{store, gloo, timeout, at::Device(at::kCPU)});
  } catch (const std::exception& e) {
    throwJava(env, std::string("c10d rendezvous failed: ") + message(e));
    return 0;
  }
}

JNIEXPORT void JNICALL Java_dev_goodput_trainer_distributed_C10d_close(JNIEnv*, jclass, jlong group) {
  delete reinterpret_cast<Group*>(group);
}

// In place on every rank: the sum over ranks (op 0), the maximum (1) or the minimum (2), divided by divisor.
JNIEXPORT void JNICALL Java_dev_goodput_trainer_distributed_C10d_allReduce(JNIEnv* env, jclass, jlong group,
    jlongArray tensors, jint op, jdouble divisor, jlong bucketBytes) {
  try {
    Group* g = reinterpret_cast<Group*>(group);
    c10d::AllreduceOptions o;
    o.reduceOp = reduceOp(op);
    o.timeout = g->timeout;
    bucketed(g, handles(env, tensors), bucketBytes, divisor,
        [&](std::vector<at::Tensor>& one) { return g->backend->allreduce(one, o); });
  } catch (const std::exception& e) {
    throwJava(env, std::string("c10d all-reduce failed: ") + message(e));
  }
}

// In place: every rank's tensors take root's values.
JNIEXPORT void JNICALL Java_dev_goodput_trainer_distributed_C10d_broadcast(JNIEnv* env, jclass, jlong group,
    jlongArray tensors, jint root, jlong bucketBytes) {
  try {
    Group* g = reinterpret_cast<Group*>(group);
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.timeout = g->timeout;
    bucketed(g, handles(env, tensors), bucketBytes, 1.0,
        [&](std::vector<at::Tensor>& one) { return g->backend->broadcast(one, o); });
  } catch (const std::exception& e) {
    throwJava(env, std::string("c10d broadcast failed: ") + message(e));
  }
}

// A few numbers reduced over ranks (the stop vote, the step's loss): op as in allReduce.
JNIEXPORT jdoubleArray JNICALL Java_dev_goodput_trainer_distributed_C10d_reduceValues(JNIEnv* env, jclass,
    jlong group, jdoubleArray values, jint op) {
  try {
    Group* g = reinterpret_cast<Group*>(group);
    jsize n = env->GetArrayLength(values);
    at::Tensor host = at::empty({n}, at::kDouble);
    env->GetDoubleArrayRegion(values, 0, n, host.data_ptr<double>());
    at::Tensor t = host.to(g->device);
    c10d::AllreduceOptions o;
    o.reduceOp = reduceOp(op);
    o.timeout = g->timeout;
    std::vector<at::Tensor> one{t};
    g->backend->allreduce(one, o)->wait(g->timeout);
    at::Tensor back = one[0].to(at::kCPU).contiguous();
    jdoubleArray out = env->NewDoubleArray(n);
    env->SetDoubleArrayRegion(out, 0, n, back.data_ptr<double>());
    return out;
  } catch (const std::exception& e) {
    throwJava(env, std::string("c10d all-reduce failed: ") + message(e));
    return nullptr;
  }
}

JNIEXPORT void JNICALL Java_dev_goodput_trainer_distributed_C10d_barrier(JNIEnv* env, jclass, jlong group) {
  try {
    Group* g = reinterpret_cast<Group*>(group);
    c10d::BarrierOptions o;
    o.timeout = g->timeout;
    if (g->device.is_cuda()) o.device_ids = {g->device.index()};
    g->backend->barrier(o)->wait(g->timeout);
  } catch (const std::exception& e) {
    throwJava(env, std::string("c10d barrier failed: ") + message(e));
  }
}

}  // extern "C"
