// Typed wrappers for libcurl's variadic calls, which Swift cannot call directly.
// One wrapper per argument type, and the one socket-option callback curl needs.
#ifndef ACCORD_CURL_H
#define ACCORD_CURL_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>

typedef size_t (*accord_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*accord_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode accord_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, accord_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_setopt_progress_callback(CURL *handle, CURLoption option, accord_curl_progress_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode accord_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode accord_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode accord_curl_easy_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode accord_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// CURLOPT_SOCKOPTFUNCTION that sets TCP_USER_TIMEOUT (milliseconds, carried in the
// data pointer) on each new TCP socket: data left unacknowledged that long fails the
// connection, which is how a dead link (no RST, no ICMP) shows in seconds. A Unix
// socket refuses the option; that is ignored.
static int accord_curl_user_timeout_sockopt(void *context, curl_socket_t fd, curlsocktype purpose) {
    (void)purpose;
    unsigned int milliseconds = (unsigned int)(uintptr_t)context;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &milliseconds, sizeof milliseconds);
    return CURL_SOCKOPT_OK;
}

static inline CURLcode accord_curl_easy_set_user_timeout(CURL *handle, long milliseconds) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_SOCKOPTFUNCTION, accord_curl_user_timeout_sockopt);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_SOCKOPTDATA, (void *)(uintptr_t)milliseconds);
}

#endif
