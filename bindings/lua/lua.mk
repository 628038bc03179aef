# Build rules of the Lua module tcfaceid.core (included by the top-level Makefile; `make lua`).
#   build/lua/5.4/tcfaceid/core.so   Lua 5.4, with the libcurl client (TCF_WITH_CURL=1)
#   build/lua/jit/tcfaceid/core.so   LuaJIT 2.1 / OpenResty, no transport (TCF_WITH_CURL=0)
# Each is bindings/lua/tcfaceid_core.c and every csrc/src/*.c compiled position independent into
# one shared object that exports only luaopen_tcfaceid_core. Needs C_SRC, C_HDR and C_WARN from
# csrc/build.mk.

LUA_CFLAGS = $(C_WARN) -O2 -g -D_POSIX_C_SOURCE=200809L -fvisibility=hidden -fPIC -Icsrc/include \
             -Icsrc/src $(CFLAGS)

.PHONY: lua-check-deps
lua-check-deps:
	@pkg-config --exists lua5.4 luajit jansson libcrypto libcurl || { echo "missing Lua or C development files (lua5.4, luajit, jansson, libcrypto, libcurl): run 'make deps'" >&2; exit 1; }

build/lua/tcfaceid-core.map:
	@mkdir -p $(@D)
	echo '{ global: luaopen_tcfaceid_core; local: *; };' > $@

# $(1) variant (5.4, jit), $(2) TCF_WITH_CURL, $(3) the Lua pkg-config name, $(4) C libraries
define LUA_VARIANT
LUA_OBJ_$(1) := $$(patsubst csrc/src/%.c,build/lua/$(1)/obj/%.o,$$(C_SRC)) build/lua/$(1)/obj/tcfaceid_core.o

build/lua/$(1)/obj/%.o: csrc/src/%.c $$(C_HDR) bindings/lua/lua.mk
	@mkdir -p $$(@D)
	$$(CC) $$(LUA_CFLAGS) -DTCF_WITH_CURL=$(2) $$(shell pkg-config --cflags $(4)) -c $$< -o $$@

build/lua/$(1)/obj/tcfaceid_core.o: bindings/lua/tcfaceid_core.c $$(C_HDR) bindings/lua/lua.mk
	@mkdir -p $$(@D)
	$$(CC) $$(LUA_CFLAGS) -DTCF_WITH_CURL=$(2) $$(shell pkg-config --cflags $(3) $(4)) -c $$< -o $$@

build/lua/$(1)/tcfaceid/core.so: $$(LUA_OBJ_$(1)) build/lua/tcfaceid-core.map
	@mkdir -p $$(@D)
	$$(CC) -shared -o $$@.tmp $$(LUA_OBJ_$(1)) -Wl,--version-script=build/lua/tcfaceid-core.map \
		$$(shell pkg-config --libs $(4)) -lpthread $$(LDFLAGS)
	mv -f $$@.tmp $$@  # atomic: a process loading the module never sees half a file
endef

$(eval $(call LUA_VARIANT,5.4,1,lua5.4,libcurl jansson libcrypto))
$(eval $(call LUA_VARIANT,jit,0,luajit,jansson libcrypto))
