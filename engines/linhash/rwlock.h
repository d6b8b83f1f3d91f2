// RwLock — a reader/writer lock that prefers writers.
//
// std::shared_mutex in libstdc++ is a default pthread rwlock, which prefers
// readers: with a few threads reading back to back, a writer waiting for the
// exclusive lock can starve for seconds. linhash's writers take the index lock
// exclusively for a few instructions per write, so they must get it promptly:
// new readers queue behind a waiting writer. Meets the SharedMutex requirements
// (std::shared_lock / std::unique_lock work).
#ifndef KVB_ENGINES_LINHASH_RWLOCK_H_
#define KVB_ENGINES_LINHASH_RWLOCK_H_

#include <pthread.h>

namespace kvb::linhash {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
#ifdef __GLIBC__
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace kvb::linhash

#endif  // KVB_ENGINES_LINHASH_RWLOCK_H_
