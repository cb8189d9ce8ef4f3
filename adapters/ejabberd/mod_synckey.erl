%%% mod_synckey.erl - the synckey server adapter for ejabberd 23.01 to 24.12
%%%
%%% Gives synckeyd what an external component cannot see (the protocol:
%%% doc/adapter-protocol.md); the same protocol as adapters/prosody:
%%%
%%%   * it answers synckeyd at DOMAIN/synckey, a full JID: ejabberd 24.10 to
%%%     24.12's mod_privilege drops every IQ other than an error or a roster
%%%     query that a privileged component sends to a bare JID or a domain
%%%     (fixed upstream in 25.03), and local_send_to_resource_hook is where
%%%     ejabberd hands over IQs to DOMAIN/resource;
%%%   * there, the feature urn:xmpp:synckey:adapter:0 in its disco#info;
%%%   * a view of one user for synckeyd: the roster with its version, or only
%%%     <unchanged/> when synckeyd holds that version, or only the items changed
%%%     since it (a bounded log per user of the roster table's writes,
%%%     doc/adapter-protocol.md "Change lists"), and <hidden/> for each
%%%     to/both contact whose presence the user does not get because one of
%%%     them blocked the other (XEP-0191 via mod_blocking/mod_privacy);
%%%   * going online without the presence flood: an initial presence carrying
%%%     <sync-presence xmlns='urn:xmpp:synckey:0'/> loses the marker and sends
%%%     no probe to local contacts while synckeyd is connected.  ejabberd pushes
%%%     roster changes to every session, so the session is "interested" as is.
%%%     Without synckeyd the presence is an ordinary one (the flood).
%%%
%%% What mod_delegation (XEP-0355) would do, done here so that it works on
%%% 24.10-24.12 too, and on every node of a cluster:
%%%   * a sync a user sends to her own bare JID is forwarded to synckeyd in
%%%     <delegation xmlns='urn:xmpp:delegation:2'> from DOMAIN/synckey, and the
%%%     answer goes back to the user; the domain's disco#info lists
%%%     urn:xmpp:synckey:0 while synckeyd is connected.  mod_delegation is
%%%     not needed with this module (leave the synckey namespace out of it).
%%%
%%% And what ejabberd's mod_privilege gets wrong for a component:
%%%   * it forwards every presence a session receives, a directed one
%%%     (RFC 6121 4.6) too, in the shape of a broadcast: the sender's session
%%%     marks a directed presence to a local user with <directed/> in
%%%     urn:xmpp:synckey:adapter:0, so that synckeyd leaves it out of the
%%%     sender's state, and the receiving session removes the mark once
%%%     mod_privilege has forwarded it (its client never sees it);
%%% and what it does not send a component at all:
%%%   * when the component connects, the current presence of every session on
%%%     the host (with <delay/>), sent by each session's own process so that it
%%%     stays in order with that session's later presence;
%%%   * an unavailable presence for a session that ends without one (dropped
%%%     connection, stream closed, kicked, stream management timeout).
%%%
%%% And what a cluster needs (mod_privilege keeps its permissions in a
%%% per-node ETS table, filled only on the node where the component connected,
%%% so it forwards only the presence of that node's users):
%%%   * on every node where mod_privilege does not hold synckeyd's presence
%%%     permission, this module forwards what mod_privilege would have: a
%%%     user's broadcast presence (user_send_packet) and every available or
%%%     unavailable presence a user receives (user_receive_packet, the
%%%     <directed/> mark still on); it looks before (49) and after (51)
%%%     mod_privilege (50), so a permission granted or revoked in between
%%%     gives at worst a duplicate, never a miss;
%%%   * the connect-time replay and the unavailable of a dropped session
%%%     already work cluster-wide (ejabberd_sm's sessions and the route to the
%%%     component are in Mnesia);
%%%   * a node joining or leaving the cluster (mnesia_up/mnesia_down, a
%%%     restart or a netsplit) closes synckeyd's link on its own node with a
%%%     <reset/> stream error: synckeyd reconnects, every older key gets a full
%%%     sync with reason='reset', and the replay gives it the true presence;
%%%   * a second connection of synckeyd's component name (any node) is refused
%%%     with a <conflict/> stream error before mod_privilege sees it (its
%%%     disconnect would otherwise revoke the first one's permissions) and its
%%%     route is withdrawn at once: no silent split of stanzas.
%%%
%%% The roster version is a SHA-1 of the roster's content (items sorted), so it
%%% changes with any change by any path, offline too, with or without
%%% mod_roster versioning.  Where every item comes from mod_roster's Mnesia
%%% table (roster_get has no other handler: no mod_shared_roster) and this
%%% node holds a copy of it, the version is instead "NONCE-N" from a log per
%%% user (see "roster changes" below), which also gives the changed items.
%%%
%%% Enable on the user host (ejabberd.yml):
%%%     modules:
%%%       mod_synckey:
%%%         component: "sync.example.org"
%%%         changes_max: 256        # optional: writes kept per user's log
%%%         changes_bytes: 65536    # optional: bytes of JIDs kept per user
%%%         changes_users: 10000    # optional: users with a log (least used go)
%%% See adapters/ejabberd/README.md for building and loading.

-module(mod_synckey).
-behaviour(gen_mod).
-behaviour(gen_server).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1,
         mod_doc/0]).
-export([disco_features/5, decode_iq_subel/1, local_resource/1, process_sync/1,
         user_send_packet/1, user_receive_packet/1, multicast_route/1,
         component_connected/1,
         c2s_handle_info/2, c2s_terminated/2,
         relay_out_early/1, relay_out_late/1, relay_in_early/1, relay_in_late/1,
         component_check/1, component_gone/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2,
         code_change/3]).

-include("xmpp.hrl").
-include("logger.hrl").
-include("translate.hrl").
-include("mod_privacy.hrl").
-include("ejabberd_router.hrl").
-include("mod_roster.hrl").

-define(NS, <<"urn:xmpp:synckey:0">>).
-define(NS1, <<"urn:xmpp:synckey:1">>).   % version 1: the same requests, another digest
-define(NS_ADAPTER, <<"urn:xmpp:synckey:adapter:0">>).
-define(NS_DELEGATION_2, <<"urn:xmpp:delegation:2">>).   % whatever xmpp.hrl's is
-define(RESOURCE, <<"synckey">>).       % synckeyd asks this module at Host/synckey
-define(SYNC_TIMEOUT, 60000).           % ms for synckeyd to answer a forwarded sync
-define(QUIET, synckey_quiet).          % process dictionary of a c2s process
-define(RELAYED, synckey_relayed).      % same: this presence went to synckeyd
-define(REFUSED, synckey_refused).      % of a component process: a second synckeyd

%% A log of one user's roster writes: write N (base < N =< last) wrote the
%% contact jids(N); used: the view count when last asked (for eviction).
-type roster_log() :: #{nonce := binary(), base := non_neg_integer(),
                        last := non_neg_integer(), jids := #{pos_integer() => ljid()},
                        bytes := non_neg_integer(), used := non_neg_integer()}.

-record(state, {host :: binary(),
                logged = false :: boolean(),          % subscribed to the roster table
                logs = #{} :: #{binary() => roster_log()},
                views = 0 :: non_neg_integer(),
                %% local users whose default privacy list denies by JID
                %% (bare JIDs or domains) or otherwise (true); off: not known
                blocks = off :: off | #{binary() => {[ljid()], boolean()}}}).

%%% ---- gen_mod ---------------------------------------------------------------

%% Every hook of a host, with its priority and why.
hooks(Host) ->
    [{disco_local_features, Host, disco_features, 50},
     %% before ejabberd_local's bounce (100)
     {local_send_to_resource_hook, Host, local_resource, 50},
     %% before mod_privilege (50) forwards the presence to components
     {user_send_packet, Host, user_send_packet, 10},
     %% after mod_privilege (50) forwarded the presence with the mark
     {user_receive_packet, Host, user_receive_packet, 60},
     {multicast_route, Host, multicast_route, 50},
     {c2s_handle_info, Host, c2s_handle_info, 50},
     %% after mod_stream_mgmt (50: a resumed session stops there), before
     %% ejabberd_c2s (100), which drops pres_last
     {c2s_terminated, Host, c2s_terminated, 60},
     %% what mod_privilege (50) forwards only on synckeyd's node: around it
     {user_send_packet, Host, relay_out_early, 49},
     {user_send_packet, Host, relay_out_late, 51},
     {user_receive_packet, Host, relay_in_early, 49},
     {user_receive_packet, Host, relay_in_late, 51}].

%% Global hooks: before mod_privilege (50) sees a second synckeyd.
global_hooks() ->
    [{component_connected, component_check, 10},
     {component_connected, component_connected, 50},
     {component_disconnected, component_gone, 10}].

start(Host, Opts) ->
    [ejabberd_hooks:add(Hook, H, ?MODULE, Fun, Prio) || {Hook, H, Fun, Prio} <- hooks(Host)],
    [ejabberd_hooks:add(Hook, ?MODULE, Fun, Prio) || {Hook, Fun, Prio} <- global_hooks()],
    [gen_iq_handler:add_iq_handler(ejabberd_sm, Host, NS, ?MODULE, process_sync)
     || NS <- [?NS, ?NS1]],
    ?INFO_MSG("synckey adapter on ~ts for ~ts, at ~ts/~ts",
              [Host, component(Host), Host, ?RESOURCE]),
    %% the watcher of cluster membership (gen_server below)
    gen_mod:start_child(?MODULE, Host, Opts).

-spec stop(binary()) -> ok.
stop(Host) ->
    [ejabberd_hooks:delete(Hook, H, ?MODULE, Fun, Prio) || {Hook, H, Fun, Prio} <- hooks(Host)],
    %% global: only when no other host runs this module
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
        false -> [ejabberd_hooks:delete(Hook, ?MODULE, Fun, Prio)
                  || {Hook, Fun, Prio} <- global_hooks()];
        true -> ok
    end,
    [gen_iq_handler:remove_iq_handler(ejabberd_sm, Host, NS) || NS <- [?NS, ?NS1]],
    gen_mod:stop_child(?MODULE, Host).

reload(_Host, _NewOpts, _OldOpts) -> ok.   % the option is read when used

-spec depends(binary(), gen_mod:opts()) -> [{module(), hard | soft}].
depends(_Host, _Opts) -> [{mod_roster, hard}, {mod_privacy, soft}].

mod_opt_type(component) -> econf:domain();
mod_opt_type(changes_max) -> econf:pos_int();
mod_opt_type(changes_bytes) -> econf:pos_int();
mod_opt_type(changes_users) -> econf:pos_int().

mod_options(_Host) ->
    [component,                                 % required
     {changes_max, 256}, {changes_bytes, 65536}, {changes_users, 10000}].

mod_doc() ->
    #{desc => [?T("synckey server adapter (doc/adapter-protocol.md)"), "",
               ?T("In a cluster, load it on every node: it forwards to synckeyd the "
                  "presence mod_privilege forwards only on synckeyd's own node, closes "
                  "synckeyd's link (so that it resets) when a node joins or leaves, and "
                  "refuses a second connection of synckeyd's name.")],
      opts => [{component, #{value => ?T("Domain"),
                             desc => ?T("The JID of synckeyd (XEP-0114).")}},
               {changes_max, #{value => ?T("Number"),
                               desc => ?T("Roster writes kept in a user's change log (256).")}},
               {changes_bytes, #{value => ?T("Number"),
                                 desc => ?T("Bytes of JIDs kept in a user's change log (65536).")}},
               {changes_users, #{value => ?T("Number"),
                                 desc => ?T("Users with a change log; the least used go first "
                                            "(10000).")}}],
      example => ["modules:",
                  "  mod_disco: {}",
                  "  mod_privilege:",
                  "    roster: {both: sync_priv}",
                  "    presence: {roster: sync_priv}",
                  "  mod_synckey:",
                  "    component: \"sync.example.org\""]}.

component(Host) -> jid:nameprep(gen_mod:get_module_opt(Host, ?MODULE, component)).

synckeyd_up(Host) -> ejabberd_router:is_my_route(component(Host)).

%%% ---- discovery ---------------------------------------------------------------

-spec disco_features(mod_disco:features_acc(), jid(), jid(), binary(), binary()) ->
    mod_disco:features_acc().
disco_features({error, _} = Acc, _From, _To, _Node, _Lang) -> Acc;
disco_features(Acc, _From, #jid{lserver = Host}, <<>>, _Lang) ->
    Feats = case Acc of {result, F} -> F; empty -> [] end,
    Sync = case synckeyd_up(Host) of true -> [?NS, ?NS1]; false -> [] end,
    {result, [?NS_ADAPTER | Sync] ++ (Feats -- [?NS, ?NS1])};
disco_features(Acc, _From, _To, _Node, _Lang) -> Acc.

%%% ---- the view: roster by version, hidden contacts -------------------------------

%% gen_iq_handler would decode the child with xmpp:decode/1, which does not
%% know this namespace: keep it as it is.
-spec decode_iq_subel(fxml:xmlel()) -> fxml:xmlel().
decode_iq_subel(El) -> El.

%%% ---- delegation: a sync sent to the user's own account ------------------------

%% The sync goes to synckeyd wrapped as XEP-0355 does, from Host/synckey (a
%% full JID: its answer passes mod_privilege on 24.10-24.12); the answer,
%% matched by ejabberd_iq on whichever node sent it, goes back to the user.
-spec process_sync(iq()) -> iq() | ignore.
process_sync(#iq{to = #jid{lserver = Host}, lang = Lang} = IQ) ->
    case synckeyd_up(Host) of
        true ->
            Fwd = #xmlel{name = <<"forwarded">>,
                         attrs = [{<<"xmlns">>, ?NS_FORWARD}],
                         children = [xmpp:encode(IQ)]},   % xmlns='jabber:client'
            Deleg = #xmlel{name = <<"delegation">>,
                           attrs = [{<<"xmlns">>, ?NS_DELEGATION_2}],
                           children = [Fwd]},
            ejabberd_router:route_iq(
              #iq{type = set, from = jid:make(<<>>, Host, ?RESOURCE),
                  to = jid:make(component(Host)), sub_els = [Deleg]},
              fun(Res) -> sync_answer(IQ, Res) end, undefined, ?SYNC_TIMEOUT),
            ignore;
        false ->
            Txt = ?T("The sync service is not connected"),
            xmpp:make_error(IQ, xmpp:err_service_unavailable(Txt, Lang))
    end.

-spec sync_answer(iq(), iq() | timeout) -> ok.
sync_answer(#iq{from = From, to = To, id = Id, lang = Lang} = IQ, #iq{type = result} = Res) ->
    try
        [Deleg] = [E || #xmlel{name = <<"delegation">>} = E <- xmpp:get_els(Res)],
        Fwd = fxml:get_subtag_with_xmlns(Deleg, <<"forwarded">>, ?NS_FORWARD),
        #iq{type = T, id = Id, sub_els = Els} = xmpp:decode(fxml:get_subtag(Fwd, <<"iq">>),
                                                           ?NS_CLIENT, []),
        true = T == result orelse T == error,
        ejabberd_router:route(#iq{type = T, id = Id, from = To, to = From, sub_els = Els})
    catch _:_ ->
            ?WARNING_MSG("synckeyd's answer to ~ts is not a delegation answer: ~ts",
                         [jid:encode(From), xmpp:pp(Res)]),
            Txt = ?T("The sync service answered with something unusable"),
            ejabberd_router:route_error(IQ, xmpp:err_internal_server_error(Txt, Lang))
    end;
sync_answer(#iq{from = From, to = To, id = Id}, #iq{type = error} = Res) ->
    ejabberd_router:route(xmpp:set_from_to(Res#iq{id = Id}, To, From));
sync_answer(#iq{lang = Lang} = IQ, timeout) ->
    Txt = ?T("The sync service did not answer in time"),
    ejabberd_router:route_error(IQ, xmpp:err_remote_server_timeout(Txt, Lang)).

%% What synckeyd sends to Host/synckey: the probe and the views.  Anyone
%% else is refused; packets to another resource go on to ejabberd_local.
-spec local_resource(stanza()) -> ok | stop.
local_resource(#iq{type = T, to = #jid{lresource = ?RESOURCE, lserver = S},
                   from = From, lang = Lang} = IQ) when T == get; T == set ->
    Component = component(S),
    Reply = case {jid:tolower(From), xmpp:get_subtag(IQ, #disco_info{})} of
                {{<<>>, Component, <<>>}, #disco_info{node = <<>>}} ->
                    xmpp:make_iq_result(IQ, #disco_info{features = [?NS_ADAPTER]});
                {{<<>>, Component, <<>>}, _} ->
                    process_view(IQ);
                _ ->
                    Txt = <<"the synckey adapter is for ", Component/binary, " only">>,
                    xmpp:make_error(IQ, xmpp:err_forbidden(Txt, Lang))
            end,
    ejabberd_router:route(Reply),
    stop;
local_resource(_Packet) -> ok.

process_view(#iq{type = get, to = #jid{lserver = S}, lang = Lang, sub_els = [El]} = IQ) ->
    case view_user(fxml:get_tag_attr_s(<<"jid">>, El), S) of
        #jid{luser = U} = User when El#xmlel.name == <<"view">> ->
            Have = fxml:get_tag_attr_s(<<"ver">>, El),
            %% the log first: a write committed after it asked is in the
            %% roster read here or comes in the next view's list
            Logged = logged_view(U, S, Have, max_changes(El)),
            %% without the whole roster, the hidden contacts from the
            %% blocks (O(blocks)) where they can be known so
            Fast = case Logged of
                       {_, unchanged} -> blocked_contacts(User);
                       {_, {changes, _}} -> blocked_contacts(User);
                       _ -> whole
                   end,
            Items = case Fast of
                        {ok, _} -> [];
                        whole -> lists:sort(fun(A, B) -> item_key(A) =< item_key(B) end,
                                            ejabberd_hooks:run_fold(roster_get, S, [], [{U, S}]))
                    end,
            {Ver, Roster} = view_roster(Logged, U, S, Have, Items),
            HiddenJIDs = case Fast of
                             {ok, Blocked} -> Blocked;
                             whole ->
                                 Receives = [jid:tolower(J) || #roster_item{jid = J, subscription = Sub} <- Items,
                                                               Sub == to orelse Sub == both],
                                 [J || #roster_item{jid = J, subscription = Sub} <- Items,
                                       Sub == to orelse Sub == both, hidden(User, J)]
                                     ++ hidden_resources(User, fun(LJ) -> lists:member(LJ, Receives) end)
                         end,
            Hidden = [#xmlel{name = <<"hidden">>, attrs = [{<<"jid">>, jid:encode(J)}]}
                      || J <- HiddenJIDs],
            Why = case Logged of
                      {_, {whole, W}} when Have /= <<>> -> [{<<"why">>, W}];
                      _ -> []
                  end,
            xmpp:make_iq_result(IQ, #xmlel{name = <<"view">>,
                                           attrs = [{<<"xmlns">>, ?NS_ADAPTER},
                                                    {<<"ver">>, Ver} | Why],
                                           children = [Roster | Hidden]});
        _ ->
            Txt = ?T("A view needs the jid of a user of this domain"),
            xmpp:make_error(IQ, xmpp:err_bad_request(Txt, Lang))
    end;
process_view(#iq{lang = Lang} = IQ) ->
    xmpp:make_error(IQ, xmpp:err_bad_request(?T("Only a view get is served here"), Lang)).

-spec view_user(binary(), binary()) -> jid:jid() | error.
view_user(Bin, S) ->
    try jid:decode(Bin) of
        #jid{luser = U, lserver = S, lresource = <<>>} = J when U /= <<>> -> J;
        _ -> error
    catch _:{bad_jid, _} -> error
    end.

item_key(#roster_item{jid = J}) -> jid:tolower(J).

%% How many changed items synckeyd takes instead of the whole roster (its
%% changes attribute; 0: none, an older synckeyd).
-spec max_changes(fxml:xmlel()) -> non_neg_integer().
max_changes(El) ->
    case catch binary_to_integer(fxml:get_tag_attr_s(<<"changes">>, El)) of
        N when is_integer(N), N > 0 -> N;
        _ -> 0
    end.

%% The view's version and its roster part: <unchanged/>, <changes/> or the
%% whole <query/>; from the user's change log where it is kept, else by the
%% content's hash.
-spec view_roster({binary(), unchanged | {changes, [ljid()]} | {whole, binary()}} | off,
                  binary(), binary(), binary(), [#roster_item{}]) -> {binary(), fxml:xmlel()}.
view_roster(Logged, U, S, Have, Items) ->
    case Logged of
        {Ver, unchanged} ->
            {Ver, #xmlel{name = <<"unchanged">>}};
        {Ver, {changes, LJIDs}} ->
            Changed = [changed_item(U, S, LJID) || LJID <- LJIDs],
            {Ver, #xmlel{name = <<"changes">>, attrs = [{<<"since">>, Have}],
                         children = [xmpp:encode(#roster_query{items = Changed, ver = Ver})]}};
        {Ver, {whole, Why}} ->
            ?DEBUG("synckey view of ~ts@~ts: the whole roster (~ts)", [U, S, Why]),
            {Ver, xmpp:encode(#roster_query{items = Items, ver = Ver})};
        off ->
            case roster_version(Items) of
                Have -> {Have, #xmlel{name = <<"unchanged">>}};
                Ver -> {Ver, xmpp:encode(#roster_query{items = Items, ver = Ver})}
            end
    end.

%% A contact's item now, as mod_roster's roster_get gives it (an item of
%% subscription none with a pending request in is not shown there).
-spec changed_item(binary(), binary(), ljid()) -> #roster_item{}.
changed_item(U, S, LJID) ->
    case mnesia:dirty_read(roster, {U, S, LJID}) of
        [#roster{subscription = none, ask = in}] -> removed_item(LJID);
        [#roster{} = R] -> mod_roster:encode_item(R);
        [] -> removed_item(LJID)
    end.

removed_item(LJID) -> #roster_item{jid = jid:make(LJID), subscription = remove}.

%%% ---- roster changes: a bounded log per user (doc/adapter-protocol.md "Change lists") --------------
%%%
%%% ejabberd has no hook that sees every roster change (a push goes only to
%%% online sessions; an admin command or a contact's subscription changes
%%% an offline user's roster too), but every change of an item lands in
%%% mod_roster's Mnesia table: this module's process subscribes to its
%%% events, which Mnesia sends in commit order, and logs each written or
%%% deleted item as write 1, 2, 3 ... of that user.  A view asks the same
%%% process, so it sees every write committed before it asked.  The version
%%% is NONCE-N: the log's random nonce and its last write.  A synckeyd
%%% holding NONCE-V with base =< V gets the items of the contacts written
%%% since V; any other version, a log started after it (first view since
%%% the process started, eviction) or trimmed past it (changes_max,
%%% changes_bytes), gets the whole roster.  Only where roster_get has no
%%% other handler than mod_roster's and this node holds a copy of the
%%% table; elsewhere the hash version, as before.

-spec logged_view(binary(), binary(), binary(), non_neg_integer()) ->
    {binary(), unchanged | {changes, [ljid()]} | {whole, binary()}} | off.
logged_view(U, S, Have, Max) ->
    case only_mod_roster(S) of
        true ->
            try gen_server:call(gen_mod:get_module_proc(S, ?MODULE), {view, U, Have, Max}, 5000)
            catch exit:Why ->
                    ?WARNING_MSG("synckey change log of ~ts not usable: ~p", [S, Why]),
                    off
            end;
        false -> off
    end.

%% Are mod_roster's items all there is to a roster (ejabberd_hooks' table)?
-spec only_mod_roster(binary()) -> boolean().
only_mod_roster(S) -> only_handler(roster_get, S, mod_roster).

%% Has Hook no handler on S but Module's (or none)?
-spec only_handler(atom(), binary(), module()) -> boolean().
only_handler(Hook, S, Module) ->
    try ets:lookup(hooks, {Hook, S}) of
        [Entry] -> lists:usort([element(2, H) || H <- element(2, Entry)]) -- [Module] == [];
        [] -> true
    catch error:badarg -> false
    end.

-spec new_log() -> roster_log().
new_log() ->
    #{nonce => base64:encode(crypto:strong_rand_bytes(9)), base => 0, last => 0,
      jids => #{}, bytes => 0, used => 0}.

-spec log_ver(roster_log()) -> binary().
log_ver(#{nonce := Nonce, last := Last}) ->
    <<Nonce/binary, "-", (integer_to_binary(Last))/binary>>.

%% What a view of U asked with Have gets, in this module's process.
-spec log_view(binary(), binary(), non_neg_integer(), #state{}) ->
    {{binary(), unchanged | {changes, [ljid()]} | {whole, binary()}} | off, #state{}}.
log_view(_U, _Have, _Max, #state{logged = false} = State) ->
    {off, State};
log_view(U, Have, Max, #state{logs = Logs, views = Views, host = Host} = State) ->
    {Log, What} = case maps:find(U, Logs) of
                      {ok, L} -> {L, bridge(L, Have, Max)};
                      error -> {new_log(), {whole, <<"no log yet">>}}
                  end,
    Logs1 = evict(Logs, gen_mod:get_module_opt(Host, ?MODULE, changes_users)),
    {{log_ver(Log), What},
     State#state{logs = Logs1#{U => Log#{used => Views}}, views = Views + 1}}.

-spec bridge(roster_log(), binary(), non_neg_integer()) ->
    unchanged | {changes, [ljid()]} | {whole, binary()}.
bridge(#{nonce := Nonce, base := Base, last := Last, jids := Jids} = Log, Have, Max) ->
    Since = case binary:split(Have, <<"-">>) of
                [Nonce, N] -> catch binary_to_integer(N);
                _ -> other
            end,
    case log_ver(Log) of
        Have -> unchanged;
        _ when Have == <<>> -> {whole, <<"no version asked with">>};
        _ when Max == 0 -> {whole, <<"no change list asked for">>};
        _ when not is_integer(Since); Since > Last -> {whole, <<"a version of another log">>};
        _ when Since < Base -> {whole, <<"changes older than the log">>};
        _ ->
            LJIDs = lists:usort([maps:get(I, Jids) || I <- lists:seq(Since + 1, Last)]),
            case length(LJIDs) =< Max of
                true -> {changes, LJIDs};
                false -> {whole, <<"more changes than asked for">>}
            end
    end.

%% At most Max logs: when full, the less used half goes.
-spec evict(#{binary() => roster_log()}, pos_integer()) -> #{binary() => roster_log()}.
evict(Logs, Max) when map_size(Logs) < Max -> Logs;
evict(Logs, Max) ->
    ByUse = lists:keysort(2, [{U, maps:get(used, L)} || {U, L} <- maps:to_list(Logs)]),
    maps:without([U || {U, _} <- lists:sublist(ByUse, map_size(Logs) - Max div 2)], Logs).

%% An item of U@Host (LJID) was written or deleted: the next write of U's log.
-spec log_write(binary(), ljid(), #state{}) -> #state{}.
log_write(U, LJID, #state{logs = Logs, host = Host} = State) ->
    case maps:find(U, Logs) of
        error -> State;                        % no log: a view starts one
        {ok, #{last := Last, jids := Jids, bytes := Bytes} = L} ->
            L1 = trim(L#{last => Last + 1, jids => Jids#{Last + 1 => LJID},
                         bytes => Bytes + ljid_size(LJID)},
                      gen_mod:get_module_opt(Host, ?MODULE, changes_max),
                      gen_mod:get_module_opt(Host, ?MODULE, changes_bytes)),
            State#state{logs = Logs#{U => L1}}
    end.

-spec trim(roster_log(), pos_integer(), pos_integer()) -> roster_log().
trim(#{base := Base, last := Last, jids := Jids, bytes := Bytes} = L, Max, MaxBytes)
  when Base < Last, Last - Base > Max orelse Bytes > MaxBytes ->
    Old = maps:get(Base + 1, Jids),
    trim(L#{base => Base + 1, jids => maps:remove(Base + 1, Jids),
            bytes => Bytes - ljid_size(Old)}, Max, MaxBytes);
trim(L, _Max, _MaxBytes) -> L.

ljid_size({U, S, R}) -> byte_size(U) + byte_size(S) + byte_size(R) + 2.

%% Mnesia's events of the roster table (simple form), in commit order.
-spec table_event(term(), #state{}) -> #state{}.
table_event({write, #roster{us = {U, Host}, jid = LJID}, _}, #state{host = Host} = State) ->
    log_write(U, LJID, State);
table_event({delete_object, #roster{us = {U, Host}, jid = LJID}, _}, #state{host = Host} = State) ->
    log_write(U, LJID, State);
table_event({delete, {roster, {U, Host, LJID}}, _}, #state{host = Host} = State) ->
    log_write(U, LJID, State);
table_event({write, #roster{}, _}, State) -> State;           % another host's
table_event({delete_object, #roster{}, _}, State) -> State;
table_event({delete, {roster, {_, _, _}}, _}, State) -> State;
table_event(Event, #state{host = Host} = State) ->
    ?WARNING_MSG("synckey change logs of ~ts dropped: unknown roster table event ~p",
                 [Host, Event]),
    State#state{logs = #{}}.

%%% ---- who blocks whom: an index of the privacy table ------------------------------
%%%
%%% For the hidden contacts of a view without the whole roster: the local
%%% users whose default list could deny a user's presence out, from the
%%% privacy table's events (Mnesia, as the roster's).

-spec blockers(binary(), #state{}) -> {ok, [binary()]} | whole.
blockers(_U, #state{blocks = off}) -> whole;
blockers(U, #state{blocks = Blocks, host = Host}) ->
    Bs = [O || {O, {Targets, Complex}} <- maps:to_list(Blocks), O /= U,
               Complex orelse lists:member({U, Host, <<>>}, Targets)
                   orelse lists:member({<<>>, Host, <<>>}, Targets)],
    case length(Bs) > 1000 of
        true -> whole;                         % a build is as cheap
        false -> {ok, Bs}
    end.

%% What a default list denies, for the index: bare JIDs and domains, and
%% whether anything else (a group, a subscription, an item of no type).
-spec deny_targets(#privacy{}) -> {[ljid()], boolean()} | none.
deny_targets(#privacy{default = none}) -> none;
deny_targets(#privacy{default = Def, lists = Lists}) ->
    Items = proplists:get_value(Def, Lists, []),
    Targets = [LJ || #listitem{action = deny, type = jid, value = {_, _, <<>>} = LJ} <- Items],
    Complex = [I || #listitem{action = deny, type = T} = I <- Items, T /= jid] /= [],
    case {Targets, Complex} of
        {[], false} -> none;
        _ -> {Targets, Complex}
    end.

-spec index_privacy(#privacy{}, #{binary() => {[ljid()], boolean()}}) ->
    #{binary() => {[ljid()], boolean()}}.
index_privacy(#privacy{us = {O, _}} = P, Blocks) ->
    case deny_targets(P) of
        none -> maps:remove(O, Blocks);
        T -> Blocks#{O => T}
    end.

-spec privacy_event(term(), #state{}) -> #state{}.
privacy_event(_Event, #state{blocks = off} = State) -> State;
privacy_event({write, #privacy{us = {_, Host}} = P, _}, #state{host = Host, blocks = B} = State) ->
    State#state{blocks = index_privacy(P, B)};
privacy_event({delete, {privacy, {O, Host}}, _}, #state{host = Host, blocks = B} = State) ->
    State#state{blocks = maps:remove(O, B)};
privacy_event({delete_object, #privacy{us = {O, Host}}, _}, #state{host = Host, blocks = B} = State) ->
    State#state{blocks = maps:remove(O, B)};
privacy_event({write, #privacy{}, _}, State) -> State;               % another host's
privacy_event({delete, {privacy, {_, _}}, _}, State) -> State;
privacy_event({delete_object, #privacy{}, _}, State) -> State;
privacy_event(Event, #state{host = Host} = State) ->
    ?WARNING_MSG("synckey: unknown privacy table event ~p: index of ~ts read again", [Event, Host]),
    State#state{blocks = read_privacy(Host)}.

%% The index from the table (at start, or after an event not understood).
-spec read_privacy(binary()) -> off | #{binary() => {[ljid()], boolean()}}.
read_privacy(Host) ->
    case catch mnesia:dirty_match_object(#privacy{us = {'_', Host}, _ = '_'}) of
        Ps when is_list(Ps) -> lists:foldl(fun index_privacy/2, #{}, Ps);
        _ -> off
    end.

%% Indexed only where mod_privacy's table is Mnesia's with a copy here.
-spec subscribe_privacy(binary()) -> off | #{binary() => {[ljid()], boolean()}}.
subscribe_privacy(Host) ->
    Local = gen_mod:is_loaded(Host, mod_privacy) andalso
        gen_mod:db_mod(Host, mod_privacy) == mod_privacy_mnesia andalso
        (catch mnesia:table_info(privacy, storage_type)) /= unknown,
    case Local andalso mnesia:subscribe({table, privacy, simple}) of
        {ok, _} -> read_privacy(Host);
        _ -> off
    end.

%% Logs only where the roster table is Mnesia's and has a copy here (its
%% events come only to such nodes).
-spec subscribe(binary()) -> boolean().
subscribe(Host) ->
    Local = gen_mod:db_mod(Host, mod_roster) == mod_roster_mnesia andalso
        (catch mnesia:table_info(roster, storage_type)) /= unknown,
    case Local andalso mnesia:subscribe({table, roster, simple}) of
        {ok, _} -> true;
        false ->
            ?INFO_MSG("synckey: no change log for ~ts (mod_roster is not on a local Mnesia "
                      "copy): views by the roster's hash", [Host]),
            false;
        Err ->
            ?WARNING_MSG("synckey: no change log for ~ts: ~p", [Host, Err]),
            false
    end.

%% The content, canonical: any change gives another version.
roster_version(Items) ->
    Bin = iolist_to_binary(
            [[jid:encode(J), 0, atom_to_binary(Sub), 0, atom_to_binary(Ask), 0, Name, 0,
              [[G, 1] || G <- lists:usort(Gs)], 2]
             || #roster_item{jid = J, subscription = Sub, ask = Ask, name = Name,
                             groups = Gs} <- Items]),
    binary:encode_hex(crypto:hash(sha, Bin)).

%% Would a fresh session of User miss Contact's presence because of a block?
%% The user's default privacy list (XEP-0191 blocks live there) against
%% incoming presence, and a local contact's default list against outgoing.
hidden(User, Contact) ->
    Pres = #presence{from = Contact, to = User},
    denies(User, Pres, in) orelse
        (ejabberd_router:is_my_host(Contact#jid.lserver) andalso
         Contact#jid.luser /= <<>> andalso denies(Contact, Pres, out)).

%% The full JIDs of to/both contacts that the user blocked alone (XEP-0191
%% allows a full JID; mod_privacy then drops what that resource sends, not
%% the contact's other resources): each a <hidden/> of its own, which hides
%% that resource only (doc/adapter-protocol.md "Hidden contacts").
hidden_resources(#jid{luser = U, lserver = S} = User, Receives) ->
    case catch mod_privacy:get_user_list(U, S, default) of
        {ok, {_Name, List}} ->
            lists:usort([jid:make(LJ)
                         || #listitem{type = jid, value = {CU, CS, CR} = LJ, action = deny} <- List,
                            CR /= <<>>, Receives({CU, CS, <<>>}),
                            denies(User, #presence{from = jid:make(LJ), to = User}, in)]);
        _ -> []
    end.

%% The hidden contacts of User without the whole roster: the candidates are
%% the JIDs her default list denies by JID and the local users whose default
%% list denies her by JID (this module's index of the privacy table), each
%% then checked as hidden/2 does.  whole where a block can match contacts
%% other than by JID (a group, a subscription, a domain, a list without
%% type), or the privacy lists are not indexed here: then from the roster.
-spec blocked_contacts(jid()) -> {ok, [jid()]} | whole.
blocked_contacts(#jid{luser = U, lserver = S} = User) ->
    Own = case catch mod_privacy:get_user_list(U, S, default) of
              {ok, {_Name, List}} -> own_blocks(List, []);
              _ -> {ok, []}                    % no default list
          end,
    Others = try gen_server:call(gen_mod:get_module_proc(S, ?MODULE), {blockers, U}, 5000)
             catch exit:_ -> whole
             end,
    case {Own, Others, only_handler(privacy_check_packet, S, mod_privacy)} of
        {{ok, OwnJIDs}, {ok, Blockers}, true} ->
            Receives = fun(LJ) -> receives(U, S, LJ) end,
            Cands = lists:usort(OwnJIDs ++ [{B, S, <<>>} || B <- Blockers]),
            {ok, [jid:make(LJ) || LJ <- Cands, Receives(LJ), hidden(User, jid:make(LJ))]
                 ++ hidden_resources(User, Receives)};
        _ -> whole
    end.

%% The bare JIDs a default list denies by JID; whole for any other deny.
own_blocks([#listitem{action = allow} | T], Acc) -> own_blocks(T, Acc);
own_blocks([#listitem{type = jid, value = {CU, CS, CR}} | T], Acc) when CU /= <<>> ->
    own_blocks(T, case CR of <<>> -> [{CU, CS, <<>>} | Acc]; _ -> Acc end);
own_blocks([_ | _], _Acc) -> whole;
own_blocks([], Acc) -> {ok, Acc}.

%% Does U@S receive LJID's presence (a to/both item; none/in is not shown)?
receives(U, S, LJID) ->
    case mnesia:dirty_read(roster, {U, S, LJID}) of
        [#roster{subscription = Sub}] -> Sub == to orelse Sub == both;
        [] -> false
    end.

denies(#jid{lserver = S} = Owner, Pres, Dir) ->
    ejabberd_hooks:run_fold(privacy_check_packet, S, allow, [Owner, Pres, Dir]) == deny.

%%% ---- going online without the flood ---------------------------------------------

is_marker(#xmlel{name = <<"sync-presence">>} = El) -> xmpp:get_ns(El) == ?NS;
is_marker(_) -> false.

%% Every presence state a user sends: a <directed/> mark from the client is
%% dropped (only this module sets it), then by where it goes.
-spec user_send_packet({stanza(), ejabberd_c2s:state()}) -> {stanza(), ejabberd_c2s:state()} | {stop, {drop, ejabberd_c2s:state()}}.
user_send_packet({#presence{type = T} = Pres, State}) when T == available; T == unavailable ->
    case to_component(Pres, State) of
        false -> send_presence(unmark(Pres), State);
        Drop -> Drop
    end;
user_send_packet(Acc) -> Acc.

%% A presence the user addresses to synckeyd itself (its domain, a node or a
%% resource of it) is not her presence (xep/ "The component and the server": only what the
%% server forwards counts): it never reaches synckeyd, and an available one
%% is answered with an error.  What mod_privilege forwards, and this module's
%% own replay and unavailable, do not come through this hook.
to_component(#presence{to = #jid{lserver = To}, type = T, lang = Lang} = Pres,
             #{lserver := Host} = State) ->
    case To == component(Host) of
        true ->
            T == available andalso
                ejabberd_router:route_error(
                  Pres, xmpp:err_not_acceptable(
                          ?T("The sync service takes presence from the server only"), Lang)),
            {stop, {drop, State}};
        false -> false
    end;
to_component(_Pres, _State) -> false.

%% A presence to the user's own bare JID, i.e. a broadcast one.
send_presence(#presence{type = available, sub_els = Els,
                        to = #jid{luser = U, lserver = S, lresource = <<>>}} = Pres,
              #{jid := #jid{luser = U, lserver = S}, lserver := Host} = State) ->
    Marked = lists:any(fun is_marker/1, Els),
    Initial = not maps:is_key(pres_last, State),
    erase(?QUIET),
    if Marked andalso Initial ->
           case synckeyd_up(Host) of
               true -> put(?QUIET, true);
               false -> ?INFO_MSG("~ts goes online marked, but ~ts is not connected: "
                                  "ordinary presence",
                                  [jid:encode(maps:get(jid, State)), component(Host)])
           end;
       true -> ok
    end,
    case Marked of
        true -> {Pres#presence{sub_els = [E || E <- Els, not is_marker(E)]}, State};
        false -> {Pres, State}
    end;
%% Directed to another user of a host with this module: the receiving
%% session's mod_privilege forwards it to synckeyd, so it gets the mark,
%% which that session removes again (user_receive_packet).  Other hosts
%% never see it: to a remote user mod_privilege forwards nothing here.
send_presence(#presence{to = #jid{luser = TU, lserver = TS}, sub_els = Els} = Pres,
              #{jid := #jid{luser = U, lserver = S}} = State)
  when TU /= <<>>, {TU, TS} /= {U, S} ->
    case gen_mod:is_loaded(TS, ?MODULE) of
        true -> {Pres#presence{sub_els = [directed_mark() | Els]}, State};
        false -> {Pres, State}
    end;
send_presence(Pres, State) -> {Pres, State}.

%% mod_privilege (50) has forwarded it to synckeyd by now, mark and all.
-spec user_receive_packet({stanza(), ejabberd_c2s:state()}) -> {stanza(), ejabberd_c2s:state()}.
user_receive_packet({#presence{} = Pres, State}) -> {unmark(Pres), State};
user_receive_packet(Acc) -> Acc.

directed_mark() -> #xmlel{name = <<"directed">>, attrs = [{<<"xmlns">>, ?NS_ADAPTER}]}.

is_directed_mark(#xmlel{name = <<"directed">>} = El) -> xmpp:get_ns(El) == ?NS_ADAPTER;
is_directed_mark(_) -> false.

unmark(#presence{sub_els = Els} = Pres) ->
    Pres#presence{sub_els = [E || E <- Els, not is_directed_mark(E)]}.

%% ejabberd_c2s probes the user's own bare JID and each to/both contact with
%% one multicast, in the same process, right after user_send_packet.  For a
%% quiet session only its own JID and remote contacts are probed: synckeyd
%% has the presence of local ones.
multicast_route({From, Domain, Dests, #presence{type = probe} = P, Wrapped} = Acc) ->
    case erase(?QUIET) of
        true ->
            Own = jid:tolower(jid:remove_resource(From)),
            Keep = [J || J <- Dests,
                         jid:tolower(jid:remove_resource(J)) == Own orelse
                             not ejabberd_router:is_my_host(J#jid.lserver)],
            {From, Domain, Keep, P, Wrapped};
        _ -> Acc
    end;
multicast_route(Acc) -> Acc.

%%% ---- what ejabberd does not tell a component --------------------------------------

%% A component connected: if it is synckeyd for a host, ask every session of
%% that host to send synckeyd its current presence.
-spec component_connected(binary()) -> ok.
component_connected(Component) ->
    lists:foreach(
      fun(Host) ->
              case gen_mod:is_loaded(Host, ?MODULE) andalso
                   component(Host) == jid:nameprep(Component) of
                  true ->
                      To = jid:make(Component),
                      Sessions = ejabberd_sm:get_vh_session_list(Host),
                      ?INFO_MSG("~ts connected: asking ~B sessions of ~ts for their presence",
                                [Component, length(Sessions), Host]),
                      [ejabberd_sm:route(jid:make(U, S, R), {synckey_burst, To})
                       || {U, S, R} <- Sessions];
                  false -> ok
              end
      end, ejabberd_option:hosts()).

%% In the session's own process.
c2s_handle_info(#{jid := JID, lserver := Host} = State, {synckey_burst, To}) ->
    case State of
        #{pres_last := Pres, pres_timestamp := TS} ->
            ejabberd_router:route(misc:add_delay_info(xmpp:set_from_to(Pres, JID, To),
                                                      jid:make(Host), TS));
        _ -> ok                                % no presence sent yet
    end,
    {stop, State};
c2s_handle_info(State, _Info) -> State.

%% The session ends while available: ejabberd broadcasts the unavailable to
%% contacts only, so synckeyd would keep the resource online.
c2s_terminated(#{pres_last := _, jid := JID, lserver := Host} = State, _Reason) ->
    case synckeyd_up(Host) of
        true -> ejabberd_router:route(#presence{type = unavailable, from = JID,
                                                to = jid:make(component(Host))});
        false -> ok
    end,
    State;
c2s_terminated(State, _Reason) -> State.

%%% ---- a cluster: what mod_privilege forwards on synckeyd's node only -------------

%% Would this node's mod_privilege forward presence of Dir to synckeyd?  Its
%% permissions (per node, ETS) exist only where synckeyd connected; the
%% conditions are mod_privilege's process_presence_out/in.
-spec privileged_here(binary(), out | in) -> boolean().
privileged_here(Host, Dir) ->
    Component = component(Host),
    Perms = try ets:lookup(mod_privilege, Host) of
                [{_, Map}] -> maps:get(Component, Map, []);
                [] -> []
            catch error:badarg -> []           % mod_privilege not running here
            end,
    Pres = proplists:get_value(presence, Perms, none),
    Roster = proplists:get_value(roster, Perms, none),
    case Dir of
        out -> Pres == roster orelse Pres == managed_entity;
        in -> Pres == roster andalso (Roster == both orelse Roster == get)
    end.

%% A presence mod_privilege forwards from the sender's session: the user's
%% broadcast one (to her own bare JID).
is_out(#presence{from = #jid{luser = U, lserver = S}, type = T,
                 to = #jid{luser = U, lserver = S, lresource = <<>>}})
  when T == available; T == unavailable -> true;
is_out(_) -> false.

%% ... and from a receiving session: any presence state from someone else.
is_in(#presence{from = #jid{luser = U, lserver = S}, type = T,
                to = #jid{luser = LU, lserver = LS}})
  when {U, S} /= {LU, LS}, (T == available orelse T == unavailable) -> true;
is_in(_) -> false.

relay_out_early({Pres, #{lserver := Host}} = Acc) -> relay(early, out, is_out(Pres), Pres, Host), Acc;
relay_out_early(Acc) -> Acc.
relay_out_late({Pres, #{lserver := Host}} = Acc) -> relay(late, out, is_out(Pres), Pres, Host), Acc;
relay_out_late(Acc) -> Acc.
relay_in_early({Pres, #{lserver := Host}} = Acc) -> relay(early, in, is_in(Pres), Pres, Host), Acc;
relay_in_early(Acc) -> Acc.
relay_in_late({Pres, #{lserver := Host}} = Acc) -> relay(late, in, is_in(Pres), Pres, Host), Acc;
relay_in_late(Acc) -> Acc.

%% Early (49): forward when mod_privilege here will not.  Late (51): forward
%% if early did not and mod_privilege (50) could not have either.  A change
%% of the permissions between the two gives a duplicate, which synckeyd
%% takes as the same state again; never a presence lost.
-spec relay(early | late, out | in, boolean(), stanza(), binary()) -> ok.
relay(early, _Dir, false, _Pres, _Host) -> erase(?RELAYED), ok;
relay(late, _Dir, false, _Pres, _Host) -> ok;
relay(Phase, Dir, true, Pres, Host) ->
    Done = case Phase of early -> false; late -> erase(?RELAYED) == true end,
    case not Done andalso not privileged_here(Host, Dir) andalso synckeyd_up(Host) of
        true ->
            ejabberd_router:route(xmpp:set_to(Pres, jid:make(component(Host)))),
            Phase == early andalso put(?RELAYED, true),
            ok;
        false when Phase == early -> erase(?RELAYED), ok;
        false -> ok
    end.

%%% ---- one synckeyd per component name -----------------------------------------

%% In the new component's own process (ejabberd_service), right after its
%% route was registered, before mod_privilege (50) grants it anything.
-spec component_check(binary()) -> ok | stop.
component_check(Component) ->
    LComp = jid:nameprep(Component),
    Served = [H || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE),
                   component(H) == LComp],
    Others = [P || Served /= [], P <- routes(LComp), P /= self()],
    case Others of
        [] -> ok;
        [Other | _] ->
            put(?REFUSED, true),
            ejabberd_router:unregister_route(LComp),
            requeue(),
            Txt = ?T("synckeyd is connected already under this name: "
                     "this second connection is refused"),
            ?WARNING_MSG("Refusing a second connection of ~ts: it is connected "
                         "already on node ~ts", [LComp, node(Other)]),
            ejabberd_service:send(self(), xmpp:serr_conflict(Txt, ejabberd_option:language())),
            stop
    end.

%% The connections of a component name, on every node: the router's backend
%% (Mnesia, cluster-wide), not its cache.
-spec routes(binary()) -> [pid()].
routes(Domain) ->
    Mod = ejabberd_router:get_backend(),
    case Mod:find_routes(Domain) of
        {ok, Rs} -> [P || #route{pid = P} <- Rs, is_pid(P)];
        {error, _} -> []
    end.

%% Stanzas routed to the refused connection while its route existed go to
%% the first one.
requeue() ->
    receive {route, Pkt} -> ejabberd_router:route(Pkt), requeue()
    after 0 -> ok
    end.

%% The refused one leaves: mod_privilege (50) would revoke the permissions
%% of the component name, i.e. of the first synckeyd.
-spec component_gone(binary(), term()) -> ok | stop.
component_gone(_Component, _Reason) ->
    case get(?REFUSED) of
        true -> stop;
        _ -> ok
    end.

%%% ---- cluster membership: a node that comes or goes means a reset -------------

init([Host | _]) ->
    process_flag(trap_exit, true),
    {ok, _} = mnesia:subscribe(system),
    {ok, #state{host = Host, logged = subscribe(Host), blocks = subscribe_privacy(Host)}}.

handle_call({view, U, Have, Max}, _From, State) ->
    {Reply, State1} = log_view(U, Have, Max, State),
    {reply, Reply, State1};
handle_call({blockers, U}, _From, State) ->
    {reply, blockers(U, State), State};
handle_call(Request, From, State) ->
    ?WARNING_MSG("Unexpected call from ~p: ~p", [From, Request]),
    {noreply, State}.

handle_cast(Msg, State) ->
    ?WARNING_MSG("Unexpected cast: ~p", [Msg]),
    {noreply, State}.

handle_info({mnesia_system_event, {Event, Node}}, #state{host = Host} = State)
  when Event == mnesia_down; Event == mnesia_up ->
    if Node /= node() -> relink(Host, Event, Node);
       true -> ok
    end,
    {noreply, State};
handle_info({mnesia_system_event, _}, State) ->
    {noreply, State};
handle_info({mnesia_table_event, Event}, State) when element(1, element(2, Event)) == privacy ->
    {noreply, privacy_event(Event, State)};
handle_info({mnesia_table_event, Event}, State) ->
    {noreply, table_event(Event, State)};
handle_info(Info, State) ->
    ?WARNING_MSG("Unexpected info: ~p", [Info]),
    {noreply, State}.

terminate(_Reason, #state{logged = Logged, blocks = Blocks}) ->
    mnesia:unsubscribe(system),
    Logged andalso mnesia:unsubscribe({table, roster, simple}),
    Blocks /= off andalso mnesia:unsubscribe({table, privacy, simple}),
    ok.

code_change(_OldVsn, State, _Extra) -> {ok, State}.

%% Presence of that node's users may have been lost (a node down: its
%% sessions end without an unavailable; a netsplit: nothing crossed): close
%% synckeyd's link where it is on this node.  It reconnects, resets every
%% older key and gets the replay of every session of the cluster.
-spec relink(binary(), mnesia_down | mnesia_up, node()) -> ok.
relink(Host, Event, Node) ->
    Component = component(Host),
    Local = [P || P <- routes(Component), node(P) == node()],
    Txt = ?T("A node joined or left the cluster: reconnect, and reset"),
    Did = case Event of mnesia_down -> "left"; mnesia_up -> "joined" end,
    [begin
         ?WARNING_MSG("Cluster node ~ts ~ts: closing the link of ~ts so that it resets",
                      [Node, Did, Component]),
         ejabberd_service:send(P, xmpp:serr_reset(Txt, ejabberd_option:language()))
     end || P <- Local],
    ok.
