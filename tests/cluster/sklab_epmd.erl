%%% sklab_epmd.erl - Erlang distribution without epmd for lab.sh's clusters
%%%
%%% A lab node is sklab<C2S>@localhost and listens for the distribution on
%%% 127.0.0.1:<C2S + 2> (lab.sh's convention).  ejabberdctl's ERL_DIST_PORT
%%% (-erl_epmd_port) assumes every node uses one port; two lab nodes on one
%%% loopback address cannot.  With -epmd_module sklab_epmd in vm.args, a
%%% node finds another's port from its name, and nothing listens elsewhere.
-module(sklab_epmd).
-export([start_link/0, register_node/2, register_node/3, listen_port_please/2,
         port_please/2, port_please/3, address_please/3, names/0, names/1]).

start_link() -> ignore.

register_node(Name, Port) -> register_node(Name, Port, inet_tcp).
register_node(_Name, _Port, _Driver) -> {ok, (erlang:system_time(second) rem 3) + 1}.

listen_port_please(Name, _Host) ->
    case port_of(Name) of
        undefined -> {ok, 0};
        Port -> {ok, Port}
    end.

port_please(Name, Host) -> port_please(Name, Host, infinity).
port_please(Name, _Host, _Timeout) ->
    case port_of(Name) of
        undefined -> noport;
        Port -> {port, Port, 6}
    end.

address_please(Name, _Host, _Family) ->
    case port_of(Name) of
        undefined -> {error, nxdomain};
        Port -> {ok, {127, 0, 0, 1}, Port, 6}
    end.

names() -> {error, address}.
names(_Host) -> {error, address}.

port_of(Name) when is_atom(Name) -> port_of(atom_to_list(Name));
port_of("sklab" ++ Digits) ->
    try list_to_integer(Digits) of
        C2S -> C2S + 2
    catch error:badarg -> undefined
    end;
port_of(_) -> undefined.
