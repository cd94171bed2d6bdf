# shellcheck shell=bash
# nginx_conf_head ROOT WORKERS: the start of an nginx.conf for a private
# nginx with Debian's Lua module, up to the Lua paths inside `http {`.
# Sourced by every script that starts an nginx (.ci/smoke-nginx.sh, the
# nginx ones in spec/integration/, bench/store.sh); the caller writes its
# servers and the closing brace.
nginx_conf_head() {
  local root=$1 workers=${2:-1} moddir=/usr/share/nginx/modules
  cat <<NGINX
load_module $moddir/ndk_http_module.so;
load_module $moddir/ngx_http_lua_module.so;
daemon off;
master_process on;
worker_processes $workers;
user root;
pid logs/nginx.pid;
error_log logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path logs/client_body;
    proxy_temp_path logs/proxy;  fastcgi_temp_path logs/fastcgi;
    uwsgi_temp_path logs/uwsgi;  scgi_temp_path logs/scgi;
    lua_package_cpath "$root/build/jit/?.so;;";
    lua_package_path  "$root/lua/?.lua;$root/lua/?/init.lua;$root/examples/?.lua;;";
NGINX
}
